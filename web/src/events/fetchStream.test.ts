import { afterEach, describe, expect, it, vi } from "vitest";
import { setToken, TOKEN_STORAGE_KEY } from "../api/token";
import { FetchEventSource, SseParser, type SseFrame } from "./fetchStream";
import { LiveEvents } from "./stream";

/** A fetch answering with an event stream the test writes to, chunk by chunk. */
function streamingFetch(status = 200) {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    if (status !== 200) return new Response(JSON.stringify({ code: "unauthorized" }), { status });
    return new Response(body, { status, headers: { "Content-Type": "text/event-stream" } });
  });
  vi.stubGlobal("fetch", fn);
  return {
    requests,
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SseParser", () => {
  it("reads frames cut anywhere, with comments, several data lines, ids and any line end", () => {
    const frames: SseFrame[] = [];
    const parser = new SseParser((f) => frames.push(f));
    const text = ': connected\n\nevent: model.state\ndata: {"a":\ndata: 1}\r\nid: 7\r\n\r\ndata:plain\r\rretry: 5\n: keep-alive\n\n';
    for (const chunk of text.match(/.{1,3}/gs) ?? []) parser.push(chunk);
    expect(frames).toEqual([
      { type: "model.state", data: '{"a":\n1}', lastEventId: "7" },
      { type: "message", data: "plain", lastEventId: "7" },
    ]);
  });
});

describe("FetchEventSource", () => {
  afterEach(() => window.sessionStorage.clear());

  it("sends the dashboard's token in the Authorization header, never in the URL", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "reader-token");
    const server = streamingFetch();
    const source = new FetchEventSource("/api/v1/events", { lastEventId: "41" });
    const opened = vi.fn();
    const got: string[] = [];
    source.onopen = opened;
    source.addEventListener("download.state", (ev) => got.push(`${ev.type} ${ev.data}`));
    server.write(": connected\n\nevent: download.state\ndata: {\"x\":1}\n\n");
    await settle();
    expect(server.requests[0].url).toBe("/api/v1/events");
    expect(server.requests[0].headers).toMatchObject({
      Authorization: "Bearer reader-token",
      Accept: "text/event-stream",
      "Last-Event-ID": "41",
    });
    expect(opened).toHaveBeenCalledOnce();
    expect(got).toEqual(['download.state {"x":1}']);
    source.close();
  });

  it("sends no Authorization header without a token", async () => {
    const server = streamingFetch();
    const source = new FetchEventSource("/api/v1/events");
    await settle();
    expect(server.requests[0].headers.Authorization).toBeUndefined();
    source.close();
  });

  it("reports a refusal or the end of the stream once, and nothing after close", async () => {
    streamingFetch(401);
    const refused = new FetchEventSource("/api/v1/events");
    const onopen = vi.fn();
    const onerror = vi.fn();
    Object.assign(refused, { onopen, onerror });
    await settle();
    expect(onopen).not.toHaveBeenCalled();
    expect(onerror).toHaveBeenCalledOnce();

    const server = streamingFetch();
    const ended = new FetchEventSource("/api/v1/events");
    const endError = vi.fn();
    ended.onerror = endError;
    server.end();
    await settle();
    expect(endError).toHaveBeenCalledOnce();

    const open = streamingFetch();
    const closed = new FetchEventSource("/api/v1/events");
    const closedError = vi.fn();
    closed.onerror = closedError;
    await settle();
    closed.close();
    open.write("event: model.state\ndata: {}\n\n");
    await settle();
    expect(closedError).not.toHaveBeenCalled();
  });

  it("lets LiveEvents try again at once when a token is given after a refusal", async () => {
    streamingFetch(401);
    const live = new LiveEvents((url, init) => new FetchEventSource(url, init), "/api/v1/events", {
      initialMs: 60_000,
      maxMs: 60_000,
    });
    live.start();
    await settle();
    expect(live.state).toBe("reconnecting");
    const server = streamingFetch();
    setToken("new-token");
    server.write(": connected\n\n");
    await settle();
    expect(server.requests[0].headers.Authorization).toBe("Bearer new-token");
    expect(live.state).toBe("live");
    live.stop();
  });
});
