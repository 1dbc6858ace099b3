// Shared domain types for the Tâches / 待办事项 example app.
// This module holds interfaces and type aliases only, so every consumer
// imports it with `import type` and it disappears entirely after compilation.

export type TodoId = string;

export type Priority = "low" | "normal" | "high";

export type FilterKind = "all" | "active" | "completed";

export type SortKey = "createdAt" | "priority" | "title";

export interface Todo {
  readonly id: TodoId;
  title: string;
  done: boolean;
  priority: Priority;
  tags: readonly string[];
  createdAt: number;
  completedAt?: number | null;
  notes?: string;
}

export interface Filters {
  kind: FilterKind;
  query: string;
  priority: Priority | null;
  sortBy: SortKey;
}

export interface TodoState {
  todos: Todo[];
  filters: Filters;
  editingId: TodoId | null;
}

export interface TodoStats {
  total: number;
  active: number;
  completed: number;
  /** Completion ratio in the range [0, 1]. */
  ratio: number;
}

export interface Option<T> {
  value: T;
  label: string;
  disabled?: boolean;
}

export type NewTodo = Pick<Todo, "title"> & Partial<Pick<Todo, "priority" | "tags" | "notes">>;

export type TodoPatch = Partial<Omit<Todo, "id" | "createdAt">>;

export type Locale = "en" | "fr" | "zh";

export type Messages = Readonly<Record<string, string>>;
