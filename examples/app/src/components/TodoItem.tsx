import React, { useEffect, useRef, useState } from "react";
import type { Todo, TodoId, TodoPatch } from "../types";
import { PRIORITY_LABELS } from "../lib/store";

export interface TodoItemProps {
  todo: Todo;
  isEditing: boolean;
  onToggle: (id: TodoId) => void;
  onRemove: (id: TodoId) => void;
  onEdit: (id: TodoId | null) => void;
  onSave: (id: TodoId, patch: TodoPatch) => void;
}

const dateFormat = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "short" });

function TodoItemImpl({ todo, isEditing, onToggle, onRemove, onEdit, onSave }: TodoItemProps) {
  const [draft, setDraft] = useState(todo.title);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (isEditing) {
      setDraft(todo.title);
      inputRef.current?.focus();
      inputRef.current?.select();
    }
  }, [isEditing, todo.title]);

  const commit = () => {
    const title = draft.trim();
    if (title && title !== todo.title) onSave(todo.id, { title });
    else onEdit(null);
  };

  const handleKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") commit();
    if (event.key === "Escape") onEdit(null);
  };

  const className = ["todo-item", todo.done && "todo-item--done", `todo-item--${todo.priority}`]
    .filter(Boolean)
    .join(" ");

  return (
    <li className={className} data-id={todo.id}>
      <label className="todo-item__check">
        <input
          type="checkbox"
          checked={todo.done}
          onChange={() => onToggle(todo.id)}
          aria-label={`Marquer « ${todo.title} » comme terminée`}
        />
      </label>

      {isEditing ? (
        <input
          ref={inputRef}
          className="todo-item__edit"
          value={draft}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => setDraft(e.target.value)}
          onKeyDown={handleKeyDown}
          onBlur={commit}
        />
      ) : (
        <>
          <span className="todo-item__title" onDoubleClick={() => onEdit(todo.id)}>
            {todo.title}
          </span>
          {todo.tags.length > 0 && (
            <span className="todo-item__tags">
              {todo.tags.map((tag) => (
                <span key={tag} className="tag">
                  #{tag}
                </span>
              ))}
            </span>
          )}
        </>
      )}

      <span className={`badge badge--${todo.priority}`}>{PRIORITY_LABELS[todo.priority]}</span>
      <time dateTime={new Date(todo.createdAt).toISOString()}>{dateFormat.format(todo.createdAt)}</time>
      {todo.done && todo.completedAt != null && <span title="Terminée">✔</span>}

      <button type="button" className="icon-button" onClick={() => onRemove(todo.id)} aria-label="Supprimer">
        🗑️
      </button>
    </li>
  );
}

/** Memoised so toggling one item does not re-render the whole list. */
export const TodoItem = React.memo(TodoItemImpl);
TodoItem.displayName = "TodoItem";
