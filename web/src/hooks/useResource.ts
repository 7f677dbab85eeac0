import { useCallback, useEffect, useRef, useState } from "react";
import { toApiError, type ApiError } from "../api/errors";

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True until the first answer (or error); reloads keep the old data on screen. */
  loading: boolean;
  reload: () => Promise<void>;
  setData: (update: (old: T | undefined) => T | undefined) => void;
}

/** Loads `loader()` now and whenever `deps` change; `reload()` fetches again. */
export function useResource<T>(loader: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const loaderRef = useRef(loader);
  const generation = useRef(0);
  useEffect(() => {
    loaderRef.current = loader;
  });

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loaderRef.current();
      if (mine !== generation.current) return;
      setDataState(value);
      setError(null);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(toApiError(e));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setLoading(true);
    void reload();
    return () => {
      generation.current += 1; // ignore answers for the old deps or after unmount
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const setData = useCallback((update: (old: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}
