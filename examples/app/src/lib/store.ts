import type { Filters, NewTodo, Priority, Todo, TodoId, TodoPatch, TodoState, TodoStats } from "../types";

export const PRIORITIES = ["low", "normal", "high"] as const satisfies readonly Priority[];

export const PRIORITY_LABELS = {
  low: "Basse ⬇",
  normal: "Normale",
  high: "Haute 🔥",
} as const satisfies Record<Priority, string>;

export enum PriorityWeight {
  Low = 1,
  Normal = 2,
  High = 3,
}

const WEIGHTS: Record<Priority, PriorityWeight> = {
  low: PriorityWeight.Low,
  normal: PriorityWeight.Normal,
  high: PriorityWeight.High,
};

export const ActionType = {
  Add: "todo/add",
  Toggle: "todo/toggle",
  Update: "todo/update",
  Remove: "todo/remove",
  ClearCompleted: "todo/clearCompleted",
  StartEditing: "ui/startEditing",
  SetFilters: "ui/setFilters",
  Hydrate: "store/hydrate",
} as const;

export type ActionType = (typeof ActionType)[keyof typeof ActionType];

export type Action =
  | { type: typeof ActionType.Add; payload: NewTodo }
  | { type: typeof ActionType.Toggle; id: TodoId }
  | { type: typeof ActionType.Update; id: TodoId; patch: TodoPatch }
  | { type: typeof ActionType.Remove; id: TodoId }
  | { type: typeof ActionType.ClearCompleted }
  | { type: typeof ActionType.StartEditing; id: TodoId | null }
  | { type: typeof ActionType.SetFilters; filters: Partial<Filters> }
  | { type: typeof ActionType.Hydrate; todos: Todo[] };

export const DEFAULT_FILTERS: Readonly<Filters> = {
  kind: "all",
  query: "",
  priority: null,
  sortBy: "createdAt",
};

export const initialState: TodoState = {
  todos: [
    { id: "seed-1", title: "Acheter du pain 🥖", done: false, priority: "normal", tags: ["courses"], createdAt: 1704153600000 },
    { id: "seed-2", title: "学习 TypeScript 泛型", done: true, priority: "high", tags: ["学习", "dev"], createdAt: 1704067200000, completedAt: 1704240000000 },
  ],
  filters: { ...DEFAULT_FILTERS },
  editingId: null,
};

let counter = 0;
export function createId(prefix = "todo"): TodoId {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

function assertNever(value: never): never {
  throw new Error(`Unhandled action: ${JSON.stringify(value)}`);
}

export function todoReducer(state: TodoState, action: Action): TodoState {
  switch (action.type) {
    case ActionType.Add: {
      const title = action.payload.title.trim();
      if (!title) return state;
      const todo: Todo = {
        id: createId(),
        title,
        done: false,
        priority: action.payload.priority ?? "normal",
        tags: action.payload.tags ?? [],
        notes: action.payload.notes,
        createdAt: Date.now(),
      };
      return { ...state, todos: [todo, ...state.todos] };
    }
    case ActionType.Toggle:
      return {
        ...state,
        todos: state.todos.map((t) =>
          t.id === action.id ? { ...t, done: !t.done, completedAt: t.done ? null : Date.now() } : t,
        ),
      };
    case ActionType.Update:
      return {
        ...state,
        todos: state.todos.map((t) => (t.id === action.id ? { ...t, ...action.patch } : t)),
        editingId: state.editingId === action.id ? null : state.editingId,
      };
    case ActionType.Remove:
      return { ...state, todos: state.todos.filter((t) => t.id !== action.id) };
    case ActionType.ClearCompleted:
      return { ...state, todos: state.todos.filter((t) => !t.done) };
    case ActionType.StartEditing:
      return { ...state, editingId: action.id };
    case ActionType.SetFilters:
      return { ...state, filters: { ...state.filters, ...action.filters } };
    case ActionType.Hydrate:
      return { ...state, todos: action.todos };
    default:
      return assertNever(action);
  }
}

export function groupBy<T, K extends PropertyKey>(
  items: readonly T[],
  key: (item: T) => K,
): Record<K, T[]> {
  const groups = {} as Record<K, T[]>;
  for (const item of items) {
    const k = key(item);
    (groups[k] ??= []).push(item);
  }
  return groups;
}

export function sortBy<T, V extends string | number>(items: readonly T[], pick: (item: T) => V, desc = false): T[] {
  const factor = desc ? -1 : 1;
  return [...items].sort((a, b) => {
    const x = pick(a);
    const y = pick(b);
    if (typeof x === "string" && typeof y === "string") return x.localeCompare(y) * factor;
    return (x < y ? -1 : x > y ? 1 : 0) * factor;
  });
}

export function selectVisibleTodos(state: TodoState, query = state.filters.query): Todo[] {
  const { kind, priority, sortBy: key } = state.filters;
  const needle = query.trim().toLocaleLowerCase();
  const visible = state.todos.filter((todo) => {
    if (kind === "active" && todo.done) return false;
    if (kind === "completed" && !todo.done) return false;
    if (priority !== null && todo.priority !== priority) return false;
    if (!needle) return true;
    const haystack = `${todo.title} ${todo.notes ?? ""} ${todo.tags.join(" ")}`.toLocaleLowerCase();
    return haystack.includes(needle);
  });
  switch (key) {
    case "priority":
      return sortBy(visible, (t) => WEIGHTS[t.priority], true);
    case "title":
      return sortBy(visible, (t) => t.title);
    default:
      return sortBy(visible, (t) => t.createdAt, true);
  }
}

export function selectStats(todos: readonly Todo[]): TodoStats {
  const completed = todos.filter((t) => t.done).length;
  const total = todos.length;
  return { total, completed, active: total - completed, ratio: total === 0 ? 0 : completed / total };
}

export function findTodo(todos: readonly Todo[], id: TodoId | null): Todo | undefined {
  return id == null ? undefined : todos.find((t) => t.id === id);
}

export function firstTag(todo: Todo | undefined): string {
  return todo?.tags?.[0]?.toUpperCase() ?? "—";
}
