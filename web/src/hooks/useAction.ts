import { useCallback, useState } from "react";
import { toApiError, type ApiError } from "../api/errors";

export interface Action {
  /** Name of the action running now, or null. */
  busy: string | null;
  error: ApiError | null;
  clearError: () => void;
  /** Runs `fn`; an error is kept in `error` (and the result is undefined). */
  run: <T>(name: string, fn: () => Promise<T>) => Promise<T | undefined>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T,>(name: string, fn: () => Promise<T>) => {
    setBusy(name);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(toApiError(e));
      return undefined;
    } finally {
      setBusy((current) => (current === name ? null : current));
    }
  }, []);
  const clearError = useCallback(() => setError(null), []);
  return { busy, error, clearError, run };
}
