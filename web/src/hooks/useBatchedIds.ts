import { useCallback, useEffect, useRef } from "react";

/** Collects model ids over `delayMs` and hands them over in one batch, so a burst of
 * events for one model costs one request. */
export function useBatchedIds(flush: (ids: string[]) => void, delayMs = 300): (id: string) => void {
  const pending = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flushRef = useRef(flush);
  useEffect(() => {
    flushRef.current = flush;
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(
    (id: string) => {
      pending.current.add(id);
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        const ids = [...pending.current];
        pending.current.clear();
        flushRef.current(ids);
      }, delayMs);
    },
    [delayMs],
  );
}
