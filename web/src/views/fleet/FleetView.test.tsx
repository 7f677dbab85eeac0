import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import type { Scope } from "../../api/access";
import { TOKEN_STORAGE_KEY } from "../../api/token";
import { resetScope } from "../../hooks/useScope";
import { mockFetch } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { FleetView } from "./FleetView";

const OLD = "a".repeat(40);
const NEW = "b".repeat(40);
const node = (name: string, online: boolean, this_node = false) => ({
  name,
  address: `http://${name}:8321`,
  version: "0.9.0",
  online,
  this_node,
  started_at: "2026-12-05T09:00:00Z",
  last_seen: "2026-12-05T09:10:00Z",
  free_bytes: 120e9,
  models: [],
});
const cell = (n: string, commit: string | null, extra: object = {}) => ({
  node: n,
  state: commit ? "available" : "missing",
  commit,
  progress: commit ? 100 : 0,
  healthy: commit ? true : null,
  behind: false,
  offline: false,
  ...extra,
});
const FLEET = {
  this_node: "gpu-1",
  shared: true,
  note: null,
  offline_after_s: 30,
  nodes: [node("gpu-1", true, true), node("gpu-2", true), node("gpu-3", false)],
  models: [
    {
      model_id: "ti2v-5b",
      newest_commit: NEW,
      nodes: [
        cell("gpu-1", NEW),
        cell("gpu-2", OLD, { behind: true, healthy: false }),
        cell("gpu-3", NEW, { offline: true }),
      ],
      holders: ["gpu-1", "gpu-2", "gpu-3"],
      behind: ["gpu-2"],
      unhealthy: ["gpu-2"],
      offline: ["gpu-3"],
    },
  ],
};
const ACTION = {
  id: "x1",
  action: "pull",
  model_id: "ti2v-5b",
  nodes: null,
  actor: "ana",
  origin: "gpu-1",
  created_at: "2026-12-05T09:09:00Z",
  results: [
    { node: "gpu-1", state: "completed", message: "ti2v-5b is here and verified", error_code: null, updated_at: null },
    { node: "gpu-2", state: "running", message: null, error_code: null, updated_at: null },
  ],
};

function withToken(scope: Scope) {
  window.sessionStorage.setItem(TOKEN_STORAGE_KEY, `${scope}-token`);
  return mockFetch({
    "GET /api/v1/fleet": FLEET,
    "GET /api/v1/fleet/actions": { data: [ACTION], count: 1 },
    "POST /api/v1/fleet/actions": { ...ACTION, id: "x2", results: [] },
    "GET /api/v1/whoami": { name: `${scope}-bot`, scope, authenticated: true, reads_open: true },
  });
}

describe("FleetView", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it("shows each node and each model's version, with behind, unhealthy and offline marked", async () => {
    withToken("admin");
    renderWithProviders(<FleetView />);
    const nodes = await screen.findByRole("table", { name: "Nodes" });
    expect(within(nodes).getAllByRole("row")).toHaveLength(4);
    expect(within(within(nodes).getAllByRole("row")[3]).getByText("Offline")).toBeInTheDocument();
    const matrix = screen.getByRole("table", { name: "Models on each node" });
    const [, row] = within(matrix).getAllByRole("row");
    const cells = within(row).getAllByRole("cell");
    expect(within(cells[0]).getByText(NEW.slice(0, 10))).toBeInTheDocument();
    expect(within(cells[1]).getByText("Behind")).toBeInTheDocument();
    expect(within(cells[1]).getByText("Unhealthy")).toBeInTheDocument();
    expect(within(cells[2]).getByText("Offline")).toBeInTheDocument();
    const actions = await screen.findByRole("table", { name: "Fleet actions" });
    expect(within(actions).getByText("Running")).toBeInTheDocument();
  });

  it("asks the fleet for an action on the ticked nodes", async () => {
    const fetch = withToken("admin");
    const user = userEvent.setup();
    renderWithProviders(<FleetView />);
    const form = await screen.findByRole("form", { name: "Ask the fleet" });
    await user.selectOptions(within(form).getByLabelText("Action"), "remove");
    await user.click(within(form).getByLabelText("gpu-2"));
    await user.click(within(form).getByRole("button", { name: "Ask the fleet" }));
    await waitFor(() => expect(fetch.find("POST", "/api/v1/fleet/actions")).toHaveLength(1));
    expect(fetch.find("POST", "/api/v1/fleet/actions")[0].body).toEqual({ action: "remove", model_id: "ti2v-5b", nodes: ["gpu-2"] });
  });

  it("offers an operate token only pull and verify, and a read token no form", async () => {
    withToken("operate");
    const first = renderWithProviders(<FleetView />);
    const form = await screen.findByRole("form", { name: "Ask the fleet" });
    await waitFor(() => expect(within(form).queryByRole("option", { name: "Remove" })).toBeNull());
    expect(within(form).getAllByRole("option").map((o) => o.textContent)).toEqual(["Pull", "Verify", "ti2v-5b"]);
    expect(await screen.findByText(/update or remove needs an admin token/)).toBeInTheDocument();
    first.unmount();
    resetScope();

    withToken("read");
    renderWithProviders(<FleetView />);
    expect(await screen.findByText(/pull or verify needs an operate token/)).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Ask the fleet" })).toBeNull();
  });
});
