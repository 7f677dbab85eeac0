import { createContext, useContext, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import type { ServerEvent } from "../api/types";
import { defaultFactory, LiveEvents, RESYNC, type ConnectionState, type EventSourceFactory } from "./stream";

const EventsContext = createContext<LiveEvents | null>(null);

export function EventsProvider({
  children,
  factory = defaultFactory,
}: {
  children: ReactNode;
  factory?: EventSourceFactory | null;
}) {
  const [live] = useState(() => new LiveEvents(factory));
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  return <EventsContext.Provider value={live}>{children}</EventsContext.Provider>;
}

export function useConnectionState(): ConnectionState {
  const live = useContext(EventsContext);
  const [state, setState] = useState<ConnectionState>(live?.state ?? "reconnecting");
  useEffect(() => {
    if (!live) return;
    setState(live.state);
    return live.onState(setState);
  }, [live]);
  return state;
}

/**
 * Calls `handler` for each event whose type is in `types` ("*" for all). A resync after
 * a lost connection is passed too (type "stream.resync"), as events may have been missed.
 */
export function useServerEvents(types: readonly string[] | "*", handler: (event: ServerEvent) => void): void {
  const live = useContext(EventsContext);
  const handlerRef = useRef(handler);
  // At commit, so an event arriving right after a render sees that render's state.
  useLayoutEffect(() => {
    handlerRef.current = handler;
  });
  const key = types === "*" ? "*" : types.join(",");
  useEffect(() => {
    if (!live) return;
    const wanted = key === "*" ? null : new Set(key.split(","));
    return live.subscribe((event) => {
      if (!wanted || wanted.has(event.type) || event.type === RESYNC) handlerRef.current(event);
    });
  }, [live, key]);
}
