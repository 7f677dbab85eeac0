import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DailyUsage, UsageReport, UsageStatistics } from "../../api/types";
import { FakeEventSource, mockFetch, reconnectStream, type Call } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { AnalyticsView, dailyTotals, periodDays } from "./AnalyticsView";

function days30(uses: (i: number) => number): DailyUsage[] {
  return Array.from({ length: 30 }, (_, i) => ({
    day: `2025-01-${String(i + 1).padStart(2, "0")}`,
    uses: uses(i),
    successes: uses(i),
    average_generation_time: null,
  }));
}

function stats(model_id: string, extra: Partial<UsageStatistics> = {}): UsageStatistics {
  return {
    model_id,
    total_uses: 30,
    uses_per_day: 1,
    average_generation_time: 60,
    success_rate: 1,
    last_30_days_usage: days30((i) => i + 1),
    peak_usage_hours: [14, 9],
    last_used: null,
    ...extra,
  };
}

function report(days: number): UsageReport {
  return {
    generated_at: 0,
    period: { start: 0, end: days * 86400, model_id: null },
    total_uses: 30,
    models: [stats("a"), stats("b", { last_30_days_usage: days30(() => 2) })],
    peak_usage_hours: [14, 9, 20],
    findings: [],
    preload: [],
  };
}

const chartRows = (name: string) =>
  within(screen.getByRole("table", { name })).getAllByRole("row").slice(1).map((r) => r.textContent);

describe("AnalyticsView", () => {
  afterEach(() => vi.useRealTimers());

  it("says why the report says less when usage analytics is switched off", async () => {
    const note = "Usage analytics is switched off: no new jobs are recorded.";
    mockFetch({ "GET /api/v1/analytics": { ...report(30), total_uses: 0, models: [], note } });
    renderWithProviders(<AnalyticsView />);
    expect(await screen.findByTestId("usage-note")).toHaveTextContent(note);
  });

  it("shows no note while usage analytics is on", async () => {
    mockFetch({ "GET /api/v1/analytics": report(30) });
    renderWithProviders(<AnalyticsView />);
    await screen.findByRole("table", { name: "Jobs per day, all models, last 30 days" });
    expect(screen.queryByTestId("usage-note")).not.toBeInTheDocument();
  });

  it("charts the chosen period's days, and says when the API gives fewer", async () => {
    mockFetch({ "GET /api/v1/analytics": (c: Call) => report(Number(c.query.get("days"))) });
    const user = userEvent.setup();
    renderWithProviders(<AnalyticsView />);
    await screen.findByRole("table", { name: "Jobs per day, all models, last 30 days" });
    await user.selectOptions(screen.getByLabelText("Period"), "7");
    const week = await screen.findByRole("table", { name: "Jobs per day, all models, last 7 days" });
    expect(within(week).getAllByRole("row").slice(1)).toHaveLength(7);
    expect(chartRows("Jobs per day, all models, last 7 days")[0]).toContain("01-24"); // the last 7 of the 30 days
    expect(chartRows("Daily jobs, a, last 7 days").at(-1)).toBe("01-3030 job(s), 30 succeeded");
    expect(screen.queryByTestId("daily-note")).not.toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Period"), "90");
    await screen.findByRole("table", { name: "Jobs per day, all models, last 30 days" });
    expect(screen.getByTestId("daily-note")).toHaveTextContent("this chart shows 30 of the 90 days");
  });

  it("lists the peak hours by rank instead of drawing bars of rank height", async () => {
    mockFetch({ "GET /api/v1/analytics": report(30) });
    renderWithProviders(<AnalyticsView />);
    const list = await screen.findByRole("list", { name: "Busiest hours, most used first" });
    expect(within(list).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "14:00–15:00",
      "09:00–10:00",
      "20:00–21:00",
    ]);
  });

  it("reloads on a reconnect, and on usage events at most once every 10 s", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const api = mockFetch({ "GET /api/v1/analytics": report(30) });
    renderWithProviders(<AnalyticsView />);
    await screen.findByRole("list", { name: "Busiest hours, most used first" });
    act(() => FakeEventSource.latest.open());
    const calls = () => api.find("GET", "/api/v1/analytics").length;
    expect(calls()).toBe(1);

    act(() => {
      for (let i = 0; i < 5; i++) {
        FakeEventSource.latest.emit("request.released", "a", {});
        FakeEventSource.latest.emit("model.state", "a", { state: "available" });
      }
    });
    expect(calls()).toBe(2); // the first at once
    await act(() => vi.advanceTimersByTimeAsync(5_000));
    expect(calls()).toBe(2);
    await act(() => vi.advanceTimersByTimeAsync(5_000));
    expect(calls()).toBe(3); // the rest once, 10 s after the first
    await act(() => vi.advanceTimersByTimeAsync(20_000));
    expect(calls()).toBe(3);

    act(() => reconnectStream());
    await waitFor(() => expect(calls()).toBe(4));
  });
});

describe("periodDays and dailyTotals", () => {
  it("clip the 30 days to the period and add models up", () => {
    const daily = days30((i) => i);
    expect(periodDays(daily, 7).map((d) => d.uses)).toEqual([23, 24, 25, 26, 27, 28, 29]);
    expect(periodDays(daily, 90)).toHaveLength(30);
    const totals = dailyTotals([stats("a"), stats("b", { last_30_days_usage: days30(() => 2) })], 7);
    expect(totals.map((d) => d.uses)).toEqual([26, 27, 28, 29, 30, 31, 32]);
  });
});
