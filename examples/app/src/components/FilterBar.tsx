import React, { useCallback } from "react";
import type { FilterKind, Filters, Option, Priority, SortKey } from "../types";
import { PRIORITIES, PRIORITY_LABELS } from "../lib/store";

interface SelectProps<T> {
  label: string;
  value: T;
  options: readonly Option<T>[];
  onChange: (value: T) => void;
  id?: string;
}

/** Generic select: option values keep their type instead of collapsing to `string`. */
export function Select<T>({ label, value, options, onChange, id }: SelectProps<T>) {
  const selectedIndex = Math.max(0, options.findIndex((option) => Object.is(option.value, value)));

  const handleChange = (event: React.ChangeEvent<HTMLSelectElement>) => {
    const option = options[Number(event.target.value)];
    if (option && !option.disabled) onChange(option.value);
  };

  return (
    <label className="select" htmlFor={id}>
      <span className="select__label">{label}</span>
      <select id={id} value={selectedIndex} onChange={handleChange}>
        {options.map((option, index) => (
          <option key={option.label} value={index} disabled={option.disabled}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}

interface SegmentedProps<T extends string> {
  value: T;
  items: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
}

/** Generic arrow component: the trailing comma in `<T,>` keeps TSX from reading a JSX tag. */
export const Segmented = <T extends string,>({ value, items, onChange }: SegmentedProps<T>) => (
  <div className="segmented" role="radiogroup">
    {items.map((item) => (
      <button
        key={item.value}
        type="button"
        role="radio"
        aria-checked={item.value === value}
        className={item.value === value ? "segmented__item is-active" : "segmented__item"}
        onClick={() => onChange(item.value)}
      >
        {item.label}
      </button>
    ))}
  </div>
);

const KIND_ITEMS = [
  { value: "all", label: "Toutes" },
  { value: "active", label: "À faire" },
  { value: "completed", label: "Terminées ✓" },
] as const satisfies readonly { value: FilterKind; label: string }[];

const SORT_OPTIONS: readonly Option<SortKey>[] = [
  { value: "createdAt", label: "Date de création" },
  { value: "priority", label: "Priorité" },
  { value: "title", label: "Titre (A→Z)" },
];

const PRIORITY_OPTIONS: readonly Option<Priority | null>[] = [
  { value: null, label: "Toutes priorités" },
  ...PRIORITIES.map((p) => ({ value: p, label: PRIORITY_LABELS[p] })),
];

export interface FilterBarProps {
  filters: Filters;
  onChange: (filters: Partial<Filters>) => void;
  onClearCompleted?: () => void;
  completedCount: number;
}

export function FilterBar({ filters, onChange, onClearCompleted, completedCount }: FilterBarProps) {
  const handleQuery = useCallback(
    (event: React.ChangeEvent<HTMLInputElement>) => onChange({ query: event.target.value }),
    [onChange],
  );

  return (
    <div className="filter-bar">
      <input
        type="search"
        className="filter-bar__search"
        placeholder="Rechercher… / 搜索"
        value={filters.query}
        onChange={handleQuery}
      />
      <Segmented value={filters.kind} items={KIND_ITEMS} onChange={(kind) => onChange({ kind })} />
      <Select
        id="priority-filter"
        label="Priorité"
        value={filters.priority}
        options={PRIORITY_OPTIONS}
        onChange={(priority) => onChange({ priority })}
      />
      <Select<SortKey>
        id="sort-by"
        label="Trier par"
        value={filters.sortBy}
        options={SORT_OPTIONS}
        onChange={(sortBy) => onChange({ sortBy })}
      />
      {onClearCompleted && completedCount > 0 && (
        <button type="button" className="link-button" onClick={onClearCompleted}>
          Effacer les terminées ({completedCount})
        </button>
      )}
    </div>
  );
}
