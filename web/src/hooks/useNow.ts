import { useSyncExternalStore } from "react";

/** How often relative times ("3 min ago") are written again. */
export const NOW_REFRESH_MS = 30_000;

// One shared clock for every relative time on the page: a single interval, running only
// while something shows a relative time.
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of [...listeners]) l();
    }, NOW_REFRESH_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const snapshot = () => now;

/** The current time in ms, updated every 30 s while the component is shown. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
