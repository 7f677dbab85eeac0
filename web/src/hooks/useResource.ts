import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { toApiError, type ApiError } from "../api/errors";

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True until the first answer (or error); reloads keep the old data on screen. */
  loading: boolean;
  reload: () => Promise<void>;
  setData: (update: (old: T | undefined) => T | undefined) => void;
}

/**
 * Loads `loader()` now and whenever `deps` change; `reload()` fetches again.
 *
 * Requests are numbered: an answer (or error) older than the one already on screen is
 * dropped, so overlapping reloads never put stale data back. Answers for old `deps`, or
 * arriving after unmount, are dropped too. The returned object keeps its identity until
 * `data`, `error` or `loading` change, and `reload`/`setData` never change.
 */
export function useResource<T>(loader: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const loaderRef = useRef(loader);
  /** Number of the last request started. */
  const issued = useRef(0);
  /** Number of the newest request whose answer was applied (or of the last one to ignore). */
  const applied = useRef(0);
  useEffect(() => {
    loaderRef.current = loader;
  });

  const reload = useCallback(async () => {
    const mine = ++issued.current;
    let value: T;
    try {
      value = await loaderRef.current();
    } catch (e) {
      if (mine <= applied.current) return;
      applied.current = mine;
      setError(toApiError(e));
      setLoading(false);
      return;
    }
    if (mine <= applied.current) return;
    applied.current = mine;
    setDataState(value);
    setError(null);
    setLoading(false);
  }, []);

  useEffect(() => {
    setLoading(true);
    void reload();
    return () => {
      applied.current = issued.current; // ignore answers for the old deps or after unmount
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const setData = useCallback((update: (old: T | undefined) => T | undefined) => setDataState(update), []);
  return useMemo(() => ({ data, error, loading, reload, setData }), [data, error, loading, reload, setData]);
}
