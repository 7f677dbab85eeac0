import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { OperationsReport } from "../../api/types";
import { mockFetch, type Call } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { OperationsPanel } from "./OperationsPanel";

const ops: OperationsReport = {
  period: { start: 0, end: 86400, model_id: null },
  downloads: [
    {
      model_id: "t2v-a14b",
      jobs: 2,
      completed: 0,
      failed: 2,
      cancelled: 0,
      success_rate: 0,
      retries: 3,
      retries_per_job: 1.5,
      failure_codes: { "remote-not-found": 2 },
    },
    {
      model_id: "ti2v-5b",
      jobs: 1,
      completed: 1,
      failed: 0,
      cancelled: 0,
      success_rate: 1,
      retries: 0,
      retries_per_job: 0,
      failure_codes: {},
    },
  ],
  health_trend: [{ day: "2025-01-02", checks: 4, unhealthy: 1, issues: 2 }],
  strategies: [
    { strategy: "alternative_model", count: 3 },
    { strategy: "mock_generation", count: 1 },
  ],
  alternatives: [{ requested_model: "t2v-a14b", used_model: "ti2v-5b", count: 3 }],
};

const rows = (name: string) =>
  within(screen.getByRole("table", { name }))
    .getAllByRole("row")
    .slice(1)
    .map((r) => Array.from(r.children).map((c) => c.textContent));

describe("OperationsPanel", () => {
  it("shows download success and retries per model, the health trend and fallback usage", async () => {
    const api = mockFetch({ "GET /api/v1/analytics/operations": (_c: Call) => ops });
    renderWithProviders(<OperationsPanel days={7} />);
    await screen.findByRole("table", { name: "Downloads per model" });
    expect(api.find("GET", "/api/v1/analytics/operations")[0].query.get("days")).toBe("7");
    expect(rows("Downloads per model")).toEqual([
      ["t2v-a14b", "2", "0%", "3 (1.5/job)", "remote-not-found (2)"],
      ["ti2v-5b", "1", "100%", "0 (0/job)", "—"],
    ]);
    expect(rows("Issues found per day")[0].join("")).toContain("4 check(s), 1 unhealthy, 2 issue(s)");
    expect(rows("Jobs per strategy").map((r) => r[0])).toEqual(["Use another model", "Mock output (not real)"]);
    const used = screen.getByRole("list", { name: "Alternatives used" });
    expect(within(used).getByRole("listitem")).toHaveTextContent("t2v-a14b ran on ti2v-5b: 3 job(s)");
  });

  it("says plainly when nothing happened", async () => {
    mockFetch({
      "GET /api/v1/analytics/operations": { ...ops, downloads: [], health_trend: [], strategies: [], alternatives: [] },
    });
    renderWithProviders(<OperationsPanel days={30} />);
    expect(await screen.findByText("No download ended in this period.")).toBeInTheDocument();
    expect(screen.getByText("No integrity checks in this period.")).toBeInTheDocument();
    expect(screen.getByText("No job asked for a model in this period.")).toBeInTheDocument();
  });
});
