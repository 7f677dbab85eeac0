import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { mockFetch } from "../../test/fakes";
import { status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { Quarantine } from "./Quarantine";

const entry = (entry_id: string, repo_id: string, size_bytes: number) => ({
  entry_id,
  repo_id,
  path: `${entry_id}.safetensors`,
  blob_name: entry_id,
  reason: "hash mismatch",
  size_bytes,
  quarantined_at: 1_700_000_000,
});

describe("Quarantine", () => {
  it("says how many bytes a purge would free before it runs", async () => {
    setToken("t");
    const api = mockFetch({
      "GET /api/v1/quarantine": [entry("e1", "Org/fixed", 2e9), entry("e2", "Org/fixed", 1e9), entry("e3", "Org/broken", 4e9)],
      "GET /api/v1/models/status": {
        data: [
          status("fixed", { availability_status: "available", is_available: true }),
          status("broken", { availability_status: "corrupted" }),
        ],
        count: 2,
      },
      "DELETE /api/v1/quarantine": { purged: 2, freed_bytes: 3e9, kept: 1 },
    });
    const user = userEvent.setup();
    renderWithProviders(<Quarantine />);
    await screen.findByRole("table", { name: "Quarantined files" });
    await waitFor(() => expect(api.find("GET", "/api/v1/models/status")).toHaveLength(1));

    // Repaired models' files only: those of the available model.
    await user.click(screen.getByRole("button", { name: "Purge quarantine" }));
    let dialog = screen.getByRole("dialog");
    expect(within(dialog).getByTestId("purge-bytes")).toHaveTextContent("3.00 GB");
    expect(dialog).toHaveTextContent("(2 of 3 file(s))");
    expect(dialog).toHaveTextContent("The others (4.00 GB) stay until their model is repaired.");
    await user.click(within(dialog).getByRole("button", { name: "Keep" }));

    // Forced: everything.
    await user.click(screen.getByLabelText("Also purge files whose model is not repaired yet"));
    await user.click(screen.getByRole("button", { name: "Purge quarantine" }));
    dialog = screen.getByRole("dialog");
    expect(within(dialog).getByTestId("purge-bytes")).toHaveTextContent("7.00 GB");
    await user.click(within(dialog).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(api.find("DELETE", "/api/v1/quarantine")).toHaveLength(1));
    expect(api.find("DELETE", "/api/v1/quarantine")[0].query.get("force")).toBe("true");
  });
});
