// Every view that changes something, with a read token and an operate token: the controls
// the token's scope does not cover are gone, and each view says once why.
import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Scope } from "../api/access";
import { TOKEN_STORAGE_KEY } from "../api/token";
import { resetScope } from "../hooks/useScope";
import { mockFetch } from "../test/fakes";
import { model, progress, settings, status } from "../test/fixtures";
import { renderWithProviders } from "../test/render";
import { Nav } from "../components/Nav";
import { AuditView } from "./audit/AuditView";
import { BandwidthControl } from "./downloads/BandwidthControl";
import { DownloadRow } from "./downloads/DownloadRow";
import { QueueList } from "./downloads/QueueList";
import { Quarantine } from "./health/Quarantine";
import { RemovePreviousVersion } from "./models/RemovePreviousVersion";
import { RequestsList } from "./requests/RequestsList";
import { SettingsView } from "./settings/SettingsView";
import { AdoptPanel } from "./storage/AdoptPanel";
import { CleanupPanel } from "./storage/CleanupPanel";

const now = Date.now() / 1000;
const ROUTES = {
  "GET /api/v1/bandwidth": { limit_bytes_per_s: 20_000_000 },
  "GET /api/v1/models": { data: [model("m1")], count: 1 },
  "GET /api/v1/models/status": { data: [status("m1")], count: 1 },
  "GET /api/v1/settings": settings({ automation: "auto" }),
  "GET /api/v1/quarantine": [
    { entry_id: "e1", repo_id: "Org/m1", path: "a.bin", blob_name: "e1", reason: "hash mismatch", size_bytes: 1e9, quarantined_at: now },
  ],
  "GET /api/v1/requests": [
    { request_id: "r1", model_id: "m1", payload: {}, state: "queued", created_at: now, expires_at: now + 3600, position: 0 },
  ],
  "GET /api/v1/models/m1/wait": { model_id: "m1", seconds: null, low_seconds: null, high_seconds: null, reason: "queued" },
  "GET /api/v1/audit": { data: [], count: 0 },
};
const entry = (model_id: string, position: number) => ({
  model_id,
  position,
  priority: "normal" as const,
  status: "queued" as const,
  downloaded_bytes: 0,
  progress_percent: 0,
  total_bytes: 1,
});

/** The dashboard holds a token of `scope`; returns the recorded calls. */
function withToken(scope: Scope) {
  window.sessionStorage.setItem(TOKEN_STORAGE_KEY, `${scope}-token`);
  return mockFetch({
    ...ROUTES,
    "GET /api/v1/whoami": { name: `${scope}-bot`, scope, authenticated: true, reads_open: true },
  });
}

/** The sentence saying why controls are hidden (it shows once whoami has answered). */
const note = async (what: string, need: Scope, scope: Scope) =>
  expect(await screen.findByText(`${what} needs an ${need} token; this token (${scope}-bot) is ${scope}.`)).toBeInTheDocument();

const button = (name: string | RegExp) => screen.queryByRole("button", { name });

function renderAll() {
  renderWithProviders(
    <>
      <BandwidthControl />
      <QueueList entries={[entry("m1", 1), entry("m2", 2)]} onMoved={() => {}} />
      <DownloadRow progress={progress("m1", { can_pause: true })} onChanged={() => {}} />
      <Quarantine />
      <RequestsList />
      <CleanupPanel onDone={() => {}} />
      <AdoptPanel onDone={() => {}} />
      <RemovePreviousVersion modelId="m1" previousVersion="aaaa" servedVersion="bbbb" onChanged={() => {}} />
    </>,
  );
}

describe("controls by the token's scope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it("a read token sees figures and no control that changes anything", async () => {
    withToken("read");
    renderAll();
    await note("Changing the cap", "admin", "read");
    await note("Reordering, pausing and resuming downloads", "operate", "read");
    await note("Purging the quarantine", "admin", "read");
    await note("Cancelling a request", "operate", "read");
    await note("Previewing and executing a cleanup", "admin", "read");
    await note("Adopting a folder", "admin", "read");
    expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("20.0 MB/s");
    expect(screen.getByRole("row", { name: "request r1" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Bandwidth cap")).toBeNull();
    for (const name of [/Move/, "Pause", "Purge quarantine", "Cancel", "Preview cleanup", "Adopt", "Remove previous version"])
      expect(button(name), String(name)).toBeNull();
  });

  it("an operate token keeps downloads and requests, not the admin controls", async () => {
    withToken("operate");
    renderAll();
    await note("Changing the cap", "admin", "operate");
    await note("Purging the quarantine", "admin", "operate");
    await note("Previewing and executing a cleanup", "admin", "operate");
    await note("Adopting a folder", "admin", "operate");
    await waitFor(() => expect(button("Remove previous version")).toBeNull());
    expect(screen.getAllByRole("button", { name: /Move/ })).toHaveLength(4);
    expect(button("Pause")).toBeInTheDocument();
    expect(within(screen.getByRole("row", { name: "request r1" })).getByRole("button", { name: "Cancel" })).toBeInTheDocument();
    expect(screen.queryByText(/Cancelling a request needs/)).toBeNull();
    for (const name of ["Purge quarantine", "Apply cap", "Preview cleanup", "Execute cleanup", "Adopt"])
      expect(button(name), name).toBeNull();
  });

  it("an admin token has every control", async () => {
    const api = withToken("admin");
    renderAll();
    await waitFor(() => expect(api.find("GET", "/api/v1/whoami")).toHaveLength(1));
    for (const name of ["Apply cap", "Pause", "Purge quarantine", "Preview cleanup", "Adopt", "Remove previous version"])
      expect(await screen.findByRole("button", { name }), name).toBeInTheDocument();
    expect(screen.queryByTestId("scope-note")).toBeNull();
  });
});

describe("settings by the token's scope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it.each(["read", "operate"] as const)("with a %s token: the values, not the form or the switches", async (scope) => {
    withToken(scope);
    renderWithProviders(<SettingsView />);
    await note("Changing settings and features", "admin", scope);
    expect(await screen.findByTestId("setting-automation")).toHaveTextContent(/auto/i);
    expect(screen.getByTestId("setting-health_check_interval_s")).toHaveTextContent("24");
    expect(screen.getByTestId("feature-retries")).toHaveTextContent("On");
    expect(screen.queryByRole("button", { name: "Save settings" })).toBeNull();
    expect(screen.queryByRole("switch")).toBeNull();
    expect(screen.getByTestId("token-scope")).toHaveTextContent(`${scope}-bot, scope ${scope}`);
  });
});

describe("the audit view by the token's scope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it("an operate token is told it needs admin instead of a refused read", async () => {
    const api = withToken("operate");
    renderWithProviders(<AuditView />);
    await note("Reading the audit log", "admin", "operate");
    await waitFor(() => expect(screen.queryByRole("form", { name: "Filter the audit log" })).toBeNull());
    expect(api.find("GET", "/api/v1/audit").length).toBeLessThanOrEqual(1); // asked before whoami answered at most
  });
});

describe("the navigation by the token's scope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it.each([
    ["operate", false],
    ["admin", true],
  ] as const)("an %s token is offered the audit view: %s", async (scope, shown) => {
    withToken(scope);
    renderWithProviders(<Nav path="/" />);
    await waitFor(() =>
      expect(screen.queryByRole("link", { name: "Audit" }) !== null).toBe(shown),
    );
    expect(screen.getByRole("link", { name: "Models" })).toBeInTheDocument();
  });
});
