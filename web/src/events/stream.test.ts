import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource, fakeFactory } from "../test/fakes";
import { LiveEvents, RESYNC } from "./stream";

describe("LiveEvents", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("delivers named events, reconnects with growing delays, and asks for a resync", () => {
    const live = new LiveEvents(fakeFactory, "/api/v1/events", { initialMs: 1000, maxMs: 4000 });
    vi.spyOn(Math, "random").mockReturnValue(1);
    const states: string[] = [];
    const events: string[] = [];
    live.onState((s) => states.push(s));
    live.subscribe((e) => events.push(`${e.type}:${e.model_id}`));
    live.start();
    expect(FakeEventSource.latest.url).toBe("/api/v1/events");
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit("model.state", "m", { state: "available" });
    expect(events).toEqual(["model.state:m"]);

    FakeEventSource.latest.fail();
    expect(FakeEventSource.latest.closed).toBe(true);
    expect(states).toEqual(["live", "reconnecting"]);
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(1999);
    expect(FakeEventSource.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    expect(live.delayFor(10)).toBe(4000);

    FakeEventSource.latest.open();
    expect(states.at(-1)).toBe("live");
    expect(events.at(-1)).toBe(`${RESYNC}:null`);
    live.stop();
  });

  it("drops the stream when the browser goes offline and retries at once when back", () => {
    const live = new LiveEvents(fakeFactory);
    live.start();
    FakeEventSource.latest.open();
    window.dispatchEvent(new Event("offline"));
    expect(live.state).toBe("reconnecting");
    expect(FakeEventSource.latest.closed).toBe(true);
    window.dispatchEvent(new Event("online"));
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest.open();
    expect(live.state).toBe("live");
    live.stop();
  });
});
