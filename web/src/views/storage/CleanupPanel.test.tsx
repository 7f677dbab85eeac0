import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import { mockFetch, type Call } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { CleanupPanel } from "./CleanupPanel";

const answer = (c: Call) => {
  const body = c.body as { dry_run: boolean };
  return {
    dry_run: body.dry_run,
    removed: [{ model_id: "old-model", size_bytes: 30e9, last_used: null, uses_per_day: 0, reason: "unused for 40 days" }],
    kept: [{ model_id: "ti2v-5b", size_bytes: 20e9, last_used: "2024-01-01T00:00:00Z", uses_per_day: 3, reason: "used today" }],
    freed_bytes: 30e9,
    free_bytes_before: 10e9,
    free_bytes_after: 40e9,
    message: body.dry_run ? "Would remove 1 model." : "Removed 1 model.",
  };
};

describe("CleanupPanel", () => {
  it("previews the plan as a table, then executes it after confirmation", async () => {
    setToken("t");
    const api = mockFetch({ "POST /api/v1/cleanup": answer });
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<CleanupPanel onDone={onDone} />);

    expect(screen.getByRole("button", { name: "Execute cleanup" })).toBeDisabled();
    const days = screen.getByLabelText("Keep models used within (days)");
    await user.clear(days);
    await user.type(days, "7");
    await user.type(screen.getByLabelText("Target free space (GB)"), "100");
    await user.click(screen.getByRole("button", { name: "Preview cleanup" }));

    const table = await screen.findByRole("table", { name: "Cleanup plan" });
    expect(api.find("POST", "/api/v1/cleanup")[0].body).toEqual({
      keep_recent_days: 7,
      target_free_bytes: 100e9,
      dry_run: true,
    });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent))).toEqual([
      ["30.0 GB", "Remove", "unused for 40 days"],
      ["20.0 GB", "Keep", "used today"],
    ]);
    expect(within(rows[0]).getByRole("rowheader")).toHaveTextContent("old-model");

    await user.click(screen.getByRole("button", { name: "Execute cleanup" }));
    const dialog = screen.getByRole("dialog");
    expect(dialog).toHaveTextContent("old-model");
    await user.click(within(dialog).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/cleanup")).toHaveLength(2));
    expect(api.find("POST", "/api/v1/cleanup")[1].body).toEqual({
      keep_recent_days: 7,
      target_free_bytes: 100e9,
      dry_run: false,
    });
    expect(await screen.findByText("Removed 1 model.")).toBeInTheDocument();
    expect(onDone).toHaveBeenCalled();
  });
});
