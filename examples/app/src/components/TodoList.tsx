import React, { useMemo } from "react";
import type { Priority, Todo, TodoId, TodoPatch } from "../types";
import { groupBy, PRIORITIES, PRIORITY_LABELS } from "../lib/store";
import { TodoItem } from "./TodoItem";

interface TodoListProps {
  todos: readonly Todo[];
  editingId: TodoId | null;
  groupByPriority?: boolean;
  emptyMessage?: React.ReactNode;
  onToggle: (id: TodoId) => void;
  onRemove: (id: TodoId) => void;
  onEdit: (id: TodoId | null) => void;
  onSave: (id: TodoId, patch: TodoPatch) => void;
}

export function TodoList({
  todos,
  editingId,
  groupByPriority = false,
  emptyMessage = "Rien à faire — profitez-en ! 🎉",
  ...handlers
}: TodoListProps): JSX.Element {
  const groups = useMemo(
    () => (groupByPriority ? groupBy(todos, (todo) => todo.priority) : null),
    [todos, groupByPriority],
  );

  if (todos.length === 0) {
    return <p className="todo-list__empty">{emptyMessage}</p>;
  }

  const renderItems = (items: readonly Todo[]) => (
    <ul className="todo-list">
      {items.map((todo) => (
        <TodoItem key={todo.id} todo={todo} isEditing={todo.id === editingId} {...handlers} />
      ))}
    </ul>
  );

  if (!groups) return renderItems(todos);

  const order: readonly Priority[] = [...PRIORITIES].reverse();
  return (
    <>
      {order.map((priority) => {
        const items = groups[priority] ?? [];
        if (items.length === 0) return null;
        return (
          <section key={priority} className="todo-group">
            <h3 className="todo-group__title">
              {PRIORITY_LABELS[priority]} <small>({items.length})</small>
            </h3>
            {renderItems(items)}
          </section>
        );
      })}
    </>
  );
}
