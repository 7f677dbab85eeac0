import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimitWait } from "./RateLimitWait";

describe("RateLimitWait", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2025-01-01T12:00:00Z") }));
  afterEach(() => vi.useRealTimers());

  it("counts the wait down each second and goes once it is over", () => {
    render(
      <RateLimitWait waiting="rate-limited by the hub, resuming in 12 s" resumeAt="2025-01-01T12:00:12Z" />,
    );
    expect(screen.getByRole("status")).toHaveTextContent("rate-limited by the hub, resuming in 12 s");
    act(() => vi.advanceTimersByTime(5_000));
    expect(screen.getByRole("status")).toHaveTextContent("rate-limited by the hub, resuming in 7 s");
    act(() => vi.advanceTimersByTime(7_000));
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows nothing when no wait stands", () => {
    render(<RateLimitWait waiting={null} resumeAt={null} />);
    expect(screen.queryByRole("status")).toBeNull();
  });
});
