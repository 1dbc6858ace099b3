import { useCallback, useEffect, useState } from "react";

type SetValue<T> = (next: T | ((previous: T) => T)) => void;

function readStored<T>(key: string, initial: T): T {
  if (typeof window === "undefined") return initial;
  try {
    const raw = window.localStorage.getItem(key);
    return raw !== null ? (JSON.parse(raw) as T) : initial;
  } catch (error) {
    console.warn(`useLocalStorage: could not parse “${key}”`, error);
    return initial;
  }
}

/**
 * Like `useState`, but persisted in `localStorage` under `key` and kept in
 * sync across browser tabs through the `storage` event.
 */
export function useLocalStorage<T>(key: string, initial: T): [T, SetValue<T>, () => void] {
  const [value, setValue] = useState<T>(() => readStored(key, initial));

  const set: SetValue<T> = useCallback(
    (next) => {
      setValue((previous) => {
        const resolved = next instanceof Function ? next(previous) : next;
        try {
          window.localStorage.setItem(key, JSON.stringify(resolved));
        } catch {
          // Quota exceeded or private mode: keep the in-memory value anyway.
        }
        return resolved;
      });
    },
    [key],
  );

  const remove = useCallback(() => {
    window.localStorage.removeItem(key);
    setValue(initial);
  }, [key, initial]);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.storageArea !== window.localStorage || event.key !== key) return;
      setValue(event.newValue != null ? (JSON.parse(event.newValue) as T) : initial);
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [key, initial]);

  return [value, set, remove];
}
