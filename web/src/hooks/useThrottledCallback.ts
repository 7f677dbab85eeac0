import { useCallback, useEffect, useRef } from "react";

/**
 * A function that calls `fn` at most once every `intervalMs`: at once when the last call
 * is long enough ago, otherwise once at the end of the interval (however many calls came).
 */
export function useThrottledCallback(fn: () => void, intervalMs: number): () => void {
  const fnRef = useRef(fn);
  const lastRun = useRef(-Infinity);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current) return; // a run is already due at the end of this interval
    const wait = lastRun.current + intervalMs - Date.now();
    const run = () => {
      timer.current = null;
      lastRun.current = Date.now();
      fnRef.current();
    };
    if (wait <= 0) run();
    else timer.current = setTimeout(run, wait);
  }, [intervalMs]);
}
