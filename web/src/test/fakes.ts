// Test doubles: a scripted fetch and an EventSource the test drives.
import { vi } from "vitest";
import type { EventSourceLike } from "../events/stream";

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: unknown;
}

export const reply = (status: number, body?: unknown): Reply => ({ status, body });
export const apiError = (status: number, code: string, message: string, hint = "", retryable = false): Reply =>
  reply(status, { code, message, hint, retryable });

type Handler = unknown | ((call: Call) => unknown);
function isReply(value: unknown): value is Reply {
  return typeof value === "object" && value !== null && "status" in value && Object.keys(value).every((k) => k === "status" || k === "body");
}

/**
 * Replaces global fetch. `routes` maps "METHOD /api/v1/path" (no query) to a JSON body, a
 * `reply(status, body)`, or a function of the call returning either (or a promise of
 * either, to hold an answer back). Unknown routes
 * answer 404 not-found. Every call is recorded in `calls`.
 */
export function mockFetch(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    const call: Call = { method, path: url.pathname, query: url.searchParams, url: `${url.pathname}${url.search}`, body, headers };
    calls.push(call);
    const key = `${method} ${url.pathname}`;
    let handler = routes[key];
    if (handler === undefined) {
      return new Response(JSON.stringify({ code: "not-found", message: `no route ${key}`, hint: "", retryable: false }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      });
    }
    if (typeof handler === "function") handler = await (handler as (c: Call) => unknown)(call);
    const answer = isReply(handler) ? handler : reply(200, handler);
    return new Response(answer.body === undefined ? "" : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fn);
  const find = (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path);
  return { calls, fn, find };
}

type MessageListener = (ev: MessageEvent) => void;

export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  static reset() {
    FakeEventSource.instances = [];
  }
  static get latest(): FakeEventSource {
    const last = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!last) throw new Error("no EventSource was opened");
    return last;
  }

  onopen: EventSourceLike["onopen"] = null;
  onerror: EventSourceLike["onerror"] = null;
  closed = false;
  private listeners = new Map<string, Set<MessageListener>>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: MessageListener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }

  close() {
    this.closed = true;
  }

  open() {
    this.onopen?.call(this, new Event("open"));
  }

  fail() {
    this.onerror?.call(this, new Event("error"));
  }

  emit(type: string, modelId: string | null, data: Record<string, unknown>) {
    const frame = new MessageEvent(type, { data: JSON.stringify({ type, model_id: modelId, at: Date.now() / 1000, data }) });
    for (const listener of this.listeners.get(type) ?? []) listener(frame);
  }
}

export const fakeFactory = (url: string) => new FakeEventSource(url);

/** Loses the (open) stream and gets it back, so listeners receive a `stream.resync`. */
export function reconnectStream(): void {
  FakeEventSource.latest.fail();
  window.dispatchEvent(new Event("online")); // retry at once instead of after the backoff
  FakeEventSource.latest.open();
}

/** A promise and the functions that settle it, to answer a request when a test says so. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
