// Server-Sent Events read with fetch: unlike EventSource it can send the token in the
// Authorization header, which the service asks for on reads when it listens beyond
// loopback. The token never goes in the URL (URLs end up in logs).
import { getToken } from "../api/token";
import type { EventSourceLike } from "./source";

export interface SseFrame {
  type: string;
  data: string;
  lastEventId: string;
}

/** Turns the text of an event stream, in chunks cut anywhere, into frames (the WHATWG
 * event-stream format: `event:`, `data:` (joined by newlines), `id:`, comments, any line end). */
export class SseParser {
  private buffer = "";
  private type = "";
  private data: string[] = [];
  /** The last `id:` seen; it stays for the frames after it, as the format says. */
  lastEventId = "";

  constructor(private readonly dispatch: (frame: SseFrame) => void) {}

  push(text: string): void {
    this.buffer += text;
    // A chunk ending in "\r" may be the first half of "\r\n": wait for the next one.
    const cut = this.buffer.endsWith("\r") ? this.buffer.length - 1 : this.buffer.length;
    const lines = this.buffer.slice(0, cut).split(/\r\n|\r|\n/);
    this.buffer = (lines.pop() ?? "") + this.buffer.slice(cut);
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === "") return this.end();
    if (line.startsWith(":")) return; // a comment: "connected", "keep-alive"
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    // "retry" is ignored: the reconnection backoff is LiveEvents' own.
  }

  private end(): void {
    const [type, data] = [this.type || "message", this.data];
    this.type = "";
    this.data = [];
    if (data.length) this.dispatch({ type, data: data.join("\n"), lastEventId: this.lastEventId });
  }
}

export interface StreamInit {
  /** The id of the last event received, sent back as `Last-Event-ID` on a reconnect. */
  lastEventId?: string;
}

/** The headers of a stream request: the token when the dashboard has one. */
export function streamHeaders(init: StreamInit = {}): Record<string, string> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.lastEventId) headers["Last-Event-ID"] = init.lastEventId;
  return headers;
}

/**
 * One connection to an event stream, with the part of EventSource's interface LiveEvents
 * uses. It never reconnects by itself: a refusal (401, 403...), a network error or the end
 * of the stream calls `onerror` once, and LiveEvents decides when to try again.
 */
export class FetchEventSource implements EventSourceLike {
  onopen: EventSourceLike["onopen"] = null;
  onerror: EventSourceLike["onerror"] = null;
  private readonly listeners = new Map<string, Set<(ev: MessageEvent) => void>>();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    readonly url: string,
    init: StreamInit = {},
  ) {
    void this.run(init);
  }

  addEventListener(type: string, listener: (ev: MessageEvent) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  private async run(init: StreamInit): Promise<void> {
    try {
      const response = await fetch(this.url, { headers: streamHeaders(init), cache: "no-store", signal: this.abort.signal });
      const type = response.headers.get("Content-Type") ?? "";
      if (!response.ok || !response.body || !type.startsWith("text/event-stream")) {
        void response.body?.cancel().catch(() => undefined);
        throw new Error(`the event stream answered ${response.status}`);
      }
      if (this.closed) return;
      this.onopen?.call(this, new Event("open"));
      await this.read(response.body);
    } catch {
      // Reported below as one error, whatever went wrong.
    }
    if (!this.closed) this.onerror?.call(this, new Event("error"));
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser((frame) => this.emit(frame));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.closed) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
    }
  }

  private emit(frame: SseFrame): void {
    if (this.closed) return;
    const event = new MessageEvent(frame.type, { data: frame.data, lastEventId: frame.lastEventId });
    for (const listener of this.listeners.get(frame.type) ?? []) listener(event);
  }
}
