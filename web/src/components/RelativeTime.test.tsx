import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RelativeTime } from "./RelativeTime";

describe("RelativeTime", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2025-01-01T12:00:00Z") }));
  afterEach(() => vi.useRealTimers());

  it("is written again every 30 s", () => {
    render(
      <p data-testid="t">
        checked <RelativeTime value="2025-01-01T11:59:20Z" />
      </p>,
    );
    expect(screen.getByTestId("t")).toHaveTextContent("checked 40 s ago");
    act(() => vi.advanceTimersByTime(30_000));
    expect(screen.getByTestId("t")).toHaveTextContent("checked 1 min 10 s ago");
    act(() => vi.advanceTimersByTime(60_000));
    expect(screen.getByTestId("t")).toHaveTextContent("checked 2 min 10 s ago");
    expect(screen.getByTestId("t").querySelector("time")).toHaveAttribute("datetime", "2025-01-01T11:59:20.000Z");
  });

  it("says never without a time", () => {
    render(
      <p data-testid="t">
        <RelativeTime value={null} />
      </p>,
    );
    expect(screen.getByTestId("t")).toHaveTextContent("never");
  });
});
