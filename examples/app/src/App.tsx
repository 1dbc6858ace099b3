import React, { useCallback, useEffect, useMemo, useReducer, useState } from "react";
import type { Filters, Locale, Messages, Priority, Todo, TodoId, TodoPatch } from "./types";
import { ActionType, findTodo, firstTag, initialState, selectStats, selectVisibleTodos, todoReducer } from "./lib/store";
import { useDebounce } from "./hooks/useDebounce";
import { useLocalStorage } from "./hooks/useLocalStorage";
import { FilterBar, Select } from "./components/FilterBar";
import { TodoList } from "./components/TodoList";

const MESSAGES: Record<Locale, Messages> = {
  en: { title: "Tasks ✅", placeholder: "What needs doing?", add: "Add", left: "left" },
  fr: { title: "Tâches ✅", placeholder: "Que faut-il faire ?", add: "Ajouter", left: "restantes" },
  zh: { title: "待办事项 ✅", placeholder: "需要做什么？", add: "添加", left: "项未完成" },
};

const LOCALE_OPTIONS = [
  { value: "fr", label: "Français" },
  { value: "en", label: "English" },
  { value: "zh", label: "中文" },
] as const;

function parseTags(input: string): { title: string; tags: string[] } {
  const tags = Array.from(input.matchAll(/#([\p{L}\p{N}_-]+)/gu), (match) => match[1] ?? "");
  const title = input.replace(/#[\p{L}\p{N}_-]+/gu, "").replace(/\s+/g, " ").trim();
  return { title, tags: tags.filter(Boolean) };
}

export default function App(): JSX.Element {
  const [storedTodos, setStoredTodos] = useLocalStorage<Todo[]>("tâches:v1", initialState.todos);
  const [locale, setLocale] = useLocalStorage<Locale>("tâches:locale", "fr");
  const [state, dispatch] = useReducer(todoReducer, { ...initialState, todos: storedTodos });
  const [draft, setDraft] = useState("");
  const [draftPriority, setDraftPriority] = useState<Priority>("normal");
  const [grouped, setGrouped] = useState(false);

  const t = MESSAGES[locale] ?? MESSAGES.fr;
  const debouncedQuery = useDebounce(state.filters.query, 200);

  useEffect(() => {
    setStoredTodos(state.todos);
  }, [state.todos, setStoredTodos]);

  const visible = useMemo(() => selectVisibleTodos(state, debouncedQuery), [state, debouncedQuery]);
  const stats = useMemo(() => selectStats(state.todos), [state.todos]);
  const editing = findTodo(state.todos, state.editingId);

  const handleToggle = useCallback((id: TodoId) => dispatch({ type: ActionType.Toggle, id }), []);
  const handleRemove = useCallback((id: TodoId) => dispatch({ type: ActionType.Remove, id }), []);
  const handleEdit = useCallback((id: TodoId | null) => dispatch({ type: ActionType.StartEditing, id }), []);
  const handleSave = useCallback(
    (id: TodoId, patch: TodoPatch) => dispatch({ type: ActionType.Update, id, patch }),
    [],
  );
  const handleFilters = useCallback(
    (filters: Partial<Filters>) => dispatch({ type: ActionType.SetFilters, filters }),
    [],
  );
  const handleClearCompleted = useCallback(() => dispatch({ type: ActionType.ClearCompleted }), []);

  const handleSubmit = (event: React.FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const { title, tags } = parseTags(draft);
    if (!title) return;
    dispatch({ type: ActionType.Add, payload: { title, tags, priority: draftPriority } });
    setDraft("");
  };

  return (
    <main className="app" lang={locale}>
      <header className="app__header">
        <h1>{t.title}</h1>
        <Select<Locale> label="🌐" value={locale} options={LOCALE_OPTIONS} onChange={setLocale} />
      </header>

      <form className="app__form" onSubmit={handleSubmit}>
        <input
          autoFocus
          value={draft}
          placeholder={t.placeholder}
          onChange={(event: React.ChangeEvent<HTMLInputElement>) => setDraft(event.target.value)}
        />
        <select
          value={draftPriority}
          onChange={(event: React.ChangeEvent<HTMLSelectElement>) => setDraftPriority(event.target.value as Priority)}
        >
          <option value="low">⬇ Basse</option>
          <option value="normal">Normale</option>
          <option value="high">🔥 Haute</option>
        </select>
        <button type="submit" disabled={!draft.trim()}>
          {t.add}
        </button>
      </form>

      <FilterBar
        filters={state.filters}
        onChange={handleFilters}
        onClearCompleted={handleClearCompleted}
        completedCount={stats.completed}
      />

      <label className="app__toggle">
        <input type="checkbox" checked={grouped} onChange={(e) => setGrouped(e.target.checked)} />
        Grouper par priorité
      </label>

      <TodoList
        todos={visible}
        editingId={state.editingId}
        groupByPriority={grouped}
        onToggle={handleToggle}
        onRemove={handleRemove}
        onEdit={handleEdit}
        onSave={handleSave}
      />

      <footer className="app__footer">
        <progress max={1} value={stats.ratio} />
        <span>
          {stats.active} {t.left} · {Math.round(stats.ratio * 100)} %
        </span>
        {editing && <span className="app__editing">✏️ {editing.title} — {firstTag(editing)}</span>}
      </footer>
    </main>
  );
}
