// The live connection to GET /api/v1/events, with reconnection and backoff. The stream is
// read with fetch (fetchStream.ts) so that it can carry the token in a header.
import { onTokenChange } from "../api/token";
import type { ServerEvent } from "../api/types";
import { FetchEventSource, type StreamInit } from "./fetchStream";
import type { EventSourceLike } from "./source";

/** Every event type the service sends (a connection delivers named events only to
 * listeners registered for that name, as EventSource does). */
export const EVENT_TYPES = [
  "download.progress",
  "download.queued",
  "download.started",
  "download.retry",
  "download.state",
  "download.priority",
  "download.cancelled",
  "file.verified",
  "queue.changed",
  "bandwidth.changed",
  "health.checked",
  "health.performance",
  "health.proposed",
  "repair.started",
  "repair.finished",
  "request.queued",
  "request.released",
  "request.expired",
  "request.cancelled",
  "model.state",
  "model.removed",
  "model.pinned",
  "update.available",
  "update.proposed",
  "update.started",
  "update.applied",
  "update.rolled_back",
  "update.settled",
  "storage.low",
  "recovery",
  "fallback.decided",
  "generation.finished",
] as const;

/** Sent to listeners when the stream is back after a loss: events may have been missed. */
export const RESYNC = "stream.resync";

export type ConnectionState = "connecting" | "live" | "reconnecting";

export type { EventSourceLike } from "./source";

export type EventSourceFactory = (url: string, init?: StreamInit) => EventSourceLike;

export const defaultFactory: EventSourceFactory | null =
  typeof fetch === "undefined" || typeof ReadableStream === "undefined"
    ? null
    : (url, init) => new FetchEventSource(url, init);

type Listener = (event: ServerEvent) => void;
type StateListener = (state: ConnectionState) => void;

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export class LiveEvents {
  private source: EventSourceLike | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<StateListener>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private lastEventId = "";
  private offToken: (() => void) | null = null;
  state: ConnectionState = "connecting";

  constructor(
    private readonly factory: EventSourceFactory | null,
    private readonly url = "/api/v1/events",
    private readonly backoff: BackoffOptions = { initialMs: 1000, maxMs: 10000 },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (typeof window !== "undefined") {
      window.addEventListener("offline", this.onOffline);
      window.addEventListener("online", this.onOnline);
    }
    this.offToken = onTokenChange(this.onOnline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (typeof window !== "undefined") {
      window.removeEventListener("offline", this.onOffline);
      window.removeEventListener("online", this.onOnline);
    }
    this.offToken?.();
    this.offToken = null;
    this.clearRetry();
    this.source?.close();
    this.source = null;
  }

  /** The browser says the network is gone: an open stream may not notice for minutes. */
  private onOffline = (): void => {
    if (this.stopped) return;
    this.source?.close();
    this.source = null;
    this.scheduleReconnect();
  };

  /** The network is back, or a token was given (a refused stream may now be let in): try
   * at once instead of waiting out the backoff. */
  private onOnline = (): void => {
    if (this.stopped || this.state === "live") return;
    this.clearRetry();
    this.attempt = 0;
    this.source?.close();
    this.source = null;
    this.connect();
  };

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Milliseconds before reconnect attempt `n` (0-based): doubling, capped, with jitter. */
  delayFor(n: number): number {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** n);
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private emit(event: ServerEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error("event listener failed", error);
      }
    }
  }

  private connect(): void {
    if (this.stopped) return;
    if (!this.factory) {
      this.setState("reconnecting");
      return;
    }
    let source: EventSourceLike;
    try {
      source = this.factory(this.url, this.lastEventId ? { lastEventId: this.lastEventId } : undefined);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.source = source;
    source.onopen = () => {
      if (this.source !== source) return;
      const wasLost = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.setState("live");
      if (wasLost) this.emit({ type: RESYNC, model_id: null, at: Date.now() / 1000, data: {} });
    };
    source.onerror = () => {
      if (this.source !== source) return;
      // The connection never retries by itself: the backoff is ours and visible.
      source.close();
      this.source = null;
      this.scheduleReconnect();
    };
    const onFrame = (ev: MessageEvent) => {
      if (this.source !== source) return;
      // The service numbers no events today (a reconnect resyncs instead); if it does,
      // the next connection asks to resume after the last one seen.
      if (ev.lastEventId) this.lastEventId = ev.lastEventId;
      const parsed = parseFrame(ev);
      if (parsed) this.emit(parsed);
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, onFrame);
    source.addEventListener("message", onFrame);
  }

  private scheduleReconnect(): void {
    this.setState("reconnecting");
    if (this.stopped || this.retryTimer) return;
    const delay = this.delayFor(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}

export function parseFrame(ev: MessageEvent): ServerEvent | null {
  try {
    const payload = JSON.parse(String(ev.data)) as Partial<ServerEvent>;
    return {
      type: payload.type ?? ev.type,
      model_id: payload.model_id ?? null,
      at: payload.at ?? Date.now() / 1000,
      data: (payload.data ?? {}) as Record<string, unknown>,
    };
  } catch {
    return null;
  }
}
