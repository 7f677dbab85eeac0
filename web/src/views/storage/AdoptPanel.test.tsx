import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import { apiError, mockFetch, reply } from "../../test/fakes";
import { model } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { AdoptPanel } from "./AdoptPanel";

const catalog = { data: [model("ti2v-5b"), model("t2v-a14b")], count: 2 };

const report = {
  model_id: "t2v-a14b",
  folder: "/data/t2v",
  mode: "move",
  files: [
    { path: "config.json", size_bytes: 2_000, outcome: "adopted", detail: "moved into the store" },
    { path: "model.safetensors", size_bytes: 4e9, outcome: "checksum-mismatch", detail: "its sha256 is not the published one; left in the folder" },
  ],
  adopted_bytes: 2_000,
  to_fetch: ["model.safetensors"],
  complete: false,
};

describe("AdoptPanel", () => {
  it("adopts a folder with the token, shows each file, then fetches the rest", async () => {
    setToken("secret");
    const api = mockFetch({
      "GET /api/v1/models": catalog,
      "POST /api/v1/models/t2v-a14b/adopt": report,
      "POST /api/v1/models/t2v-a14b/download": reply(202, { model_id: "t2v-a14b", status: "queued" }),
    });
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<AdoptPanel onDone={onDone} />);
    const form = screen.getByRole("form", { name: "Adopt a folder" });
    const how = within(form).getByLabelText("How");
    expect(within(how).getAllByRole("option").map((o) => [(o as HTMLOptionElement).value, o.textContent])).toEqual([
      ["link", "Hard link: the folder keeps its files"],
      ["move", "Move into the store"],
    ]);
    await waitFor(() => expect(within(form).getAllByRole("option", { name: /^t/ })).toHaveLength(2));

    await user.type(within(form).getByLabelText("Folder on the service's machine"), "/data/t2v");
    await user.selectOptions(within(form).getByLabelText("Model"), "t2v-a14b");
    await user.selectOptions(how, "move");
    await user.click(within(form).getByRole("button", { name: "Adopt" }));

    const table = await screen.findByRole("table", { name: "Adopted files" });
    const call = api.find("POST", "/api/v1/models/t2v-a14b/adopt")[0];
    expect(call.body).toEqual({ path: "/data/t2v", mode: "move" });
    expect(call.headers.Authorization).toBe("Bearer secret");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent))).toEqual([
      ["2.00 kB", "Adopted", "moved into the store"],
      ["4.00 GB", "Checksum differs", "its sha256 is not the published one; left in the folder"],
    ]);
    expect(screen.getByTestId("adopt-summary")).toHaveTextContent("1 file(s) are still to fetch.");
    expect(onDone).toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Fetch the rest" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/models/t2v-a14b/download")).toHaveLength(1));
    expect(api.find("POST", "/api/v1/models/t2v-a14b/download")[0].headers.Authorization).toBe("Bearer secret");
    expect(await screen.findByText(/queued/)).toBeInTheDocument();
  });

  it("offers no fetch when the folder was complete", async () => {
    setToken("t");
    mockFetch({
      "GET /api/v1/models": catalog,
      "POST /api/v1/models/ti2v-5b/adopt": { ...report, model_id: "ti2v-5b", to_fetch: [], complete: true },
    });
    const user = userEvent.setup();
    renderWithProviders(<AdoptPanel onDone={() => {}} />);
    await screen.findByRole("option", { name: "ti2v-5b" });
    await user.type(screen.getByLabelText("Folder on the service's machine"), "/data/ti2v");
    await user.click(screen.getByRole("button", { name: "Adopt" }));
    expect(await screen.findByTestId("adopt-summary")).toHaveTextContent("nothing is left to fetch");
    expect(screen.queryByRole("button", { name: "Fetch the rest" })).not.toBeInTheDocument();
  });

  it("shows a missing folder's message and hint", async () => {
    setToken("t");
    mockFetch({
      "GET /api/v1/models": catalog,
      "POST /api/v1/models/ti2v-5b/adopt": apiError(
        422,
        "adopt-folder-missing",
        "There is no folder /nope on the service's machine.",
        "Give the folder that holds the model's files.",
      ),
    });
    const user = userEvent.setup();
    renderWithProviders(<AdoptPanel onDone={() => {}} />);
    await screen.findByRole("option", { name: "ti2v-5b" });
    await user.type(screen.getByLabelText("Folder on the service's machine"), "/nope");
    await user.click(screen.getByRole("button", { name: "Adopt" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("There is no folder /nope on the service's machine.");
    expect(alert).toHaveTextContent("Give the folder that holds the model's files.");
    expect(screen.queryByRole("table", { name: "Adopted files" })).not.toBeInTheDocument();
  });
});
