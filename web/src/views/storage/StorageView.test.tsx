import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { mockFetch, type Call } from "../../test/fakes";
import { model, storage } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { StorageView } from "./StorageView";

const unused = (model_id: string) => ({ model_id, size_bytes: 12e9, last_used: null, uses_per_day: 0, reason: "never used" });

describe("StorageView", () => {
  it("executes the previewed cleanup, keeping every other model, then shows the disk again", async () => {
    setToken("t");
    let removed = false;
    const api = mockFetch({
      "GET /api/v1/storage": () =>
        storage({
          models: removed
            ? [{ model_id: "b", bytes_on_disk: 8e9, pinned: true, state: "available" }]
            : [
                { model_id: "a", bytes_on_disk: 12e9, pinned: false, state: "available" },
                { model_id: "b", bytes_on_disk: 8e9, pinned: true, state: "available" },
              ],
          unused: removed ? [] : [unused("a")],
        }),
      "GET /api/v1/models": { data: [model("a"), model("b"), model("c")], count: 3 },
      "POST /api/v1/cleanup": (c: Call) => {
        const body = c.body as { dry_run: boolean };
        if (!body.dry_run) removed = true;
        return {
          dry_run: body.dry_run,
          removed: [unused("a")],
          kept: [{ ...unused("b"), reason: "pinned" }],
          freed_bytes: 12e9,
          free_bytes_before: 100e9,
          free_bytes_after: 112e9,
          message: body.dry_run ? "Would remove a." : "Removed a.",
        };
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<StorageView />);
    const onDisk = await screen.findByRole("table", { name: "Models on disk" });
    expect(within(onDisk).getAllByRole("rowheader").map((r) => r.textContent)).toEqual(["a", "b"]);
    expect(within(screen.getByRole("table", { name: "Unused models" })).getByRole("row", { name: /^a / })).toHaveTextContent(
      "never",
    );

    await user.click(screen.getByRole("button", { name: "Preview cleanup" }));
    const plan = await screen.findByRole("table", { name: "Cleanup plan" });
    expect(plan).toHaveTextContent("a");
    await user.click(screen.getByRole("button", { name: "Execute cleanup" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Confirm" }));

    await waitFor(() => expect(api.find("POST", "/api/v1/cleanup")).toHaveLength(2));
    expect(api.find("POST", "/api/v1/cleanup")[1].body).toEqual({
      keep: ["b", "c"],
      keep_recent_days: 30,
      target_free_bytes: null,
      dry_run: false,
    });
    expect(await screen.findByText("Removed a.")).toBeInTheDocument();
    await waitFor(() =>
      expect(within(screen.getByRole("table", { name: "Models on disk" })).getAllByRole("rowheader").map((r) => r.textContent)).toEqual([
        "b",
      ]),
    );
  });

  it("shows the disk use the service computed (the figure Health shows), and the states in words", async () => {
    mockFetch({
      "GET /api/v1/storage": storage({
        total_bytes: 1_000e9,
        free_bytes: 297e9,
        used_bytes: 420e9,
        used_percent: 58.6,
        models: [{ model_id: "a", bytes_on_disk: 12e9, pinned: false, state: "corrupted" }],
      }),
      "GET /api/v1/models": { data: [model("a")], count: 1 },
    });
    renderWithProviders(<StorageView />);
    // Used + free need not add up to the total (reserved blocks): the service's share stands.
    expect(await screen.findByTestId("disk-used")).toHaveTextContent("58.6% used");
    const onDisk = screen.getByRole("table", { name: "Models on disk" });
    expect(within(onDisk).getByRole("row", { name: /^a / })).toHaveTextContent("12.0 GBDamaged");
  });
});
