import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { HealthReport, ModelHealth } from "../../api/types";
import { mockFetch } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { HealthView } from "./HealthView";

function modelHealth(model_id: string, extra: Partial<ModelHealth> = {}): ModelHealth {
  return {
    model_id,
    condition: "healthy",
    integrity_score: 1,
    issues: [],
    last_health_check: null,
    last_check_level: null,
    check_age_s: null,
    performance_score: 1,
    performance_status: "learning",
    performance_reasons: [],
    repairing: false,
    downloading: false,
    ...extra,
  };
}

const missing = (path: string) => ({ path, kind: "missing", detail: "" });

function report(): HealthReport {
  return {
    overall_health_score: 0.5,
    models_healthy: 0,
    models_degraded: 0,
    models_corrupted: 1,
    models_incomplete: 1,
    models_absent: 1,
    storage_usage_percent: 58.6,
    storage_free_bytes: 297e9,
    quarantine_bytes: 0,
    last_updated: new Date().toISOString(),
    next_scheduled_check: null,
    automation: "ask",
    recommendations: [
      { severity: "critical", message: "a: damaged files", action: "repair", route: "POST /api/v1/models/a/repair", model_id: "a" },
    ],
    models: [
      modelHealth("a", {
        condition: "corrupted",
        integrity_score: 0.66,
        issues: [{ path: "unet/model.safetensors", kind: "checksum-mismatch", detail: "" }],
        last_health_check: new Date().toISOString(),
        last_check_level: "full",
      }),
      modelHealth("b", { condition: "incomplete", integrity_score: 0.2, issues: ["x", "y", "z", "w"].map(missing) }),
      modelHealth("c", { condition: "absent", integrity_score: null }),
    ],
  };
}

describe("HealthView", () => {
  it("writes conditions, severities, actions and issue kinds in words, and integrity only where checked", async () => {
    mockFetch({ "GET /api/v1/health": report(), "GET /api/v1/quarantine": [] });
    renderWithProviders(<HealthView />);
    const table = await screen.findByRole("table", { name: "Models" });
    const row = (id: string) => within(table).getByRole("row", { name: new RegExp(`^${id} `) });
    expect(row("a")).toHaveTextContent("Damaged66%unet/model.safetensors: damaged (checksum differs)");
    expect(row("a")).toHaveTextContent("(full)");
    expect(row("b")).toHaveTextContent("Incomplete20%4 files missing from disk");
    expect(row("c")).toHaveTextContent("Not downloadednot checked");
    expect(table).not.toHaveTextContent(/corrupted|absent|checksum-mismatch|learning/);

    const rec = screen.getByText("a: damaged files").closest("li");
    expect(rec).toHaveTextContent("Criticala: damaged filesAction: Repair · API: POST /api/v1/models/a/repair");
    expect(screen.getByText("Ask")).toHaveAttribute("title", "Ask: propose what to run");
    expect(screen.getByText("Disk used").nextSibling).toHaveTextContent("58.6%");
  });
});
