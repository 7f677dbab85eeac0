import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import { FakeEventSource, mockFetch, type Call } from "../../test/fakes";
import { model } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { CleanupPanel } from "./CleanupPanel";

const candidate = (model_id: string, reason: string, size_bytes = 30e9) => ({
  model_id,
  size_bytes,
  last_used: null,
  uses_per_day: 0,
  reason,
});

const answer = (c: Call) => {
  const body = c.body as { dry_run: boolean };
  return {
    dry_run: body.dry_run,
    removed: [candidate("old-model", "unused for 40 days")],
    kept: [{ ...candidate("ti2v-5b", "used today", 20e9), last_used: "2024-01-01T00:00:00Z", uses_per_day: 3 }],
    freed_bytes: 30e9,
    free_bytes_before: 10e9,
    free_bytes_after: 40e9,
    message: body.dry_run ? "Would remove 1 model." : "Removed 1 model.",
  };
};

const catalog = { data: ["old-model", "ti2v-5b", "t2v-a14b"].map((id) => model(id)), count: 3 };

async function previewWith(user: ReturnType<typeof userEvent.setup>, days: string, targetGb = "") {
  const field = screen.getByLabelText("Keep models used within (days)");
  await user.clear(field);
  await user.type(field, days);
  if (targetGb) await user.type(screen.getByLabelText("Target free space (GB)"), targetGb);
  await user.click(screen.getByRole("button", { name: "Preview cleanup" }));
  return screen.findByRole("table", { name: "Cleanup plan" });
}

describe("CleanupPanel", () => {
  it("previews the plan as a table, then executes exactly that plan after confirmation", async () => {
    setToken("t");
    const api = mockFetch({ "GET /api/v1/models": catalog, "POST /api/v1/cleanup": answer });
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<CleanupPanel onDone={onDone} />);

    expect(screen.getByRole("button", { name: "Execute cleanup" })).toBeDisabled();
    const table = await previewWith(user, "7", "100");
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
    // Not the criteria again: every other catalog model is kept, so only old-model can go.
    expect(api.find("POST", "/api/v1/cleanup")[1].body).toEqual({
      keep: ["ti2v-5b", "t2v-a14b"],
      keep_recent_days: 7,
      target_free_bytes: null,
      dry_run: false,
    });
    expect(await screen.findByText("Removed 1 model.")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(onDone).toHaveBeenCalled();
  });

  it("warns when the cleanup removed something else than the preview showed", async () => {
    setToken("t");
    mockFetch({
      "GET /api/v1/models": catalog,
      "POST /api/v1/cleanup": (c: Call) =>
        (c.body as { dry_run: boolean }).dry_run
          ? { ...answer(c), removed: [candidate("old-model", "unused"), candidate("t2v-a14b", "unused")] }
          : { ...answer(c), removed: [candidate("old-model", "unused")], message: "" },
    });
    const user = userEvent.setup();
    renderWithProviders(<CleanupPanel onDone={() => {}} />);
    await previewWith(user, "30");
    await user.click(screen.getByRole("button", { name: "Execute cleanup" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Confirm" }));
    const warning = await screen.findByRole("alert");
    expect(warning).toHaveTextContent(
      "The cleanup did not match the preview: it removed old-model, the preview listed old-model, t2v-a14b.",
    );
  });

  it("clears the preview when a model is removed, pinned, a download changes or space runs low", async () => {
    setToken("t");
    const api = mockFetch({ "GET /api/v1/models": catalog, "POST /api/v1/cleanup": answer });
    const user = userEvent.setup();
    renderWithProviders(<CleanupPanel onDone={() => {}} />);
    const events: [string, string | null, Record<string, unknown>, string][] = [
      ["model.removed", "ti2v-5b", {}, "ti2v-5b was removed"],
      ["model.pinned", "old-model", { pinned: true }, "old-model was pinned"],
      ["download.state", "t2v-a14b", { state: "downloading" }, "the download of t2v-a14b changed"],
      ["storage.low", null, {}, "free space ran low"],
    ];
    for (const [type, id, data, said] of events) {
      await previewWith(user, "30");
      expect(screen.getByRole("button", { name: "Execute cleanup" })).toBeEnabled();
      act(() => FakeEventSource.latest.emit(type, id, data));
      expect(screen.queryByRole("table", { name: "Cleanup plan" })).not.toBeInTheDocument();
      expect(screen.getByRole("button", { name: "Execute cleanup" })).toBeDisabled();
      expect(screen.getByRole("alert")).toHaveTextContent(`The preview was cleared because ${said} since it was made.`);
    }
    // Other events leave the plan alone.
    await previewWith(user, "30");
    act(() => FakeEventSource.latest.emit("download.progress", "ti2v-5b", {}));
    expect(screen.getByRole("table", { name: "Cleanup plan" })).toBeInTheDocument();
    expect(api.find("POST", "/api/v1/cleanup").every((c) => (c.body as { dry_run: boolean }).dry_run)).toBe(true);
  });
});
