import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import type { ModelStatus } from "../../api/types";
import { deferred, FakeEventSource, mockFetch, reconnectStream, reply, type Call } from "../../test/fakes";
import { model, progress, status, storage } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import * as modelActions from "./modelActions";
import { ModelsView } from "./ModelsView";

// actionsFor runs once per render of a card's actions: counting its calls counts renders.
vi.mock("./modelActions", async (original) => {
  const real = await original<typeof modelActions>();
  return { ...real, actionsFor: vi.fn(real.actionsFor) };
});

const BATCH_MS = 300; // how long status refreshes are collected before they are sent

const wait = (ms: number) => act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));
const card = (id: string) => screen.getByRole("article", { name: `model ${id}` });
const buttons = (id: string) =>
  within(card(id))
    .queryAllByRole("button")
    .map((b) => b.textContent);

const available = (id: string, extra: Partial<ModelStatus> = {}) =>
  status(id, { availability_status: "available", is_available: true, present_bytes: 10_000_000_000, ...extra });

function version(id: string, previous: string | null = null) {
  return {
    model_id: id,
    latest: "b".repeat(40),
    checked_at: 0,
    state: "current",
    current: "b".repeat(40),
    previous,
    applying: null,
    applied_at: null,
    successes: 0,
    failures: 0,
    skipped: null,
    policy: "notify",
    reason: "",
  };
}

function routes(statuses: ModelStatus[], extra: Record<string, unknown> = {}, pinned: string[] = []) {
  return mockFetch({
    "GET /api/v1/models": { data: statuses.map((s) => model(s.model_id)), count: statuses.length },
    "GET /api/v1/models/status": { data: statuses, count: statuses.length },
    "GET /api/v1/storage": storage({
      models: pinned.map((id) => ({ model_id: id, bytes_on_disk: 1, pinned: true, state: "available" })),
    }),
    "GET /api/v1/queue": { data: [], count: 0 },
    ...Object.fromEntries(statuses.map((s) => [`GET /api/v1/models/${s.model_id}/versions`, version(s.model_id)])),
    ...extra,
  });
}

beforeEach(() => {
  vi.mocked(modelActions.actionsFor).mockClear();
});

describe("ModelsView", () => {
  it("offers each card the actions of its state, and runs them", async () => {
    setToken("t");
    const list = [
      status("missing-m"),
      status("dl-m", { availability_status: "downloading", present_bytes: 5, can_pause_download: true }),
      status("paused-m", { availability_status: "paused", present_bytes: 5, can_resume_download: true }),
      available("ready-m"),
      available("pinned-m"),
      status("bad-m", { availability_status: "corrupted", present_bytes: 9 }),
    ];
    const api = routes(
      list,
      {
        "POST /api/v1/models/dl-m/pause": { model_id: "dl-m", action: "pause", changed: true },
        "GET /api/v1/models/dl-m/status": status("dl-m", {
          availability_status: "paused",
          present_bytes: 5,
          can_resume_download: true,
        }),
        "GET /api/v1/models/ready-m/versions": version("ready-m", "a".repeat(40)),
      },
      ["pinned-m"],
    );
    const user = userEvent.setup();
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model missing-m" });

    expect(buttons("missing-m")).toEqual(["Download"]);
    expect(buttons("dl-m")).toEqual(["Pause", "Cancel", "Pin"]);
    expect(buttons("paused-m")).toEqual(["Resume", "Cancel", "Pin", "Remove"]);
    await waitFor(() => expect(buttons("ready-m")).toEqual(["Verify", "Rollback", "Pin", "Remove", "Remove previous version"]));
    await waitFor(() => expect(buttons("pinned-m")).toEqual(["Verify", "Unpin"]));
    expect(card("pinned-m")).toHaveTextContent("Unpin it first to remove it.");
    expect(buttons("bad-m")).toEqual(["Verify", "Repair", "Pin", "Remove"]);

    await user.click(within(card("dl-m")).getByRole("button", { name: "Pause" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/models/dl-m/pause")).toHaveLength(1));
    // The card's status is fetched again and its actions follow.
    await waitFor(() => expect(within(card("dl-m")).getByTestId("state")).toHaveTextContent("Paused"));
    expect(buttons("dl-m")).toEqual(["Resume", "Cancel", "Pin", "Remove"]);
  });

  it("asks for each available model's versions once, however the answers trickle in", async () => {
    const ids = ["v1", "v2", "v3", "v4", "v5", "v6"];
    const held = ids.map(() => deferred<unknown>());
    const api = routes(
      ids.map((id) => available(id)),
      Object.fromEntries(ids.map((id, i) => [`GET /api/v1/models/${id}/versions`, () => held[i].promise])),
    );
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model v1" });
    for (const [i, id] of ids.entries()) {
      held[i].resolve(i === 2 ? reply(500, { code: "x", message: "failed", hint: "", retryable: true }) : version(id));
      await wait(10);
    }
    await wait(50);
    for (const id of ids) expect(api.find("GET", `/api/v1/models/${id}/versions`)).toHaveLength(1);

    // Progress events do not ask again, failed or not; an event about a model's versions does.
    act(() => FakeEventSource.latest.emit("download.progress", "v2", progress("v2") as never));
    act(() => FakeEventSource.latest.emit("update.applied", "v3", {}));
    await wait(50);
    expect(api.find("GET", "/api/v1/models/v3/versions")).toHaveLength(2);
    for (const id of ids.filter((i) => i !== "v3")) expect(api.find("GET", `/api/v1/models/${id}/versions`)).toHaveLength(1);
  });

  it("fetches a model's status at most once for a burst of 50 progress events, and only when it changed", async () => {
    const api = routes([status("a", { availability_status: "queued" }), status("b", { availability_status: "downloading" })], {
      "GET /api/v1/models/a/status": status("a", { availability_status: "downloading", can_pause_download: true }),
    });
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model a" });
    act(() => FakeEventSource.latest.open());

    // a: queued on the card, downloading in the events: one status fetch for the change.
    // b: downloading in both, its progress only moves: no status fetch.
    act(() => {
      for (let i = 0; i < 50; i++) {
        FakeEventSource.latest.emit("download.progress", "a", progress("a", { progress_percent: i }) as never);
        FakeEventSource.latest.emit("download.progress", "b", progress("b", { progress_percent: i }) as never);
      }
    });
    await wait(BATCH_MS + 100);
    expect(api.find("GET", "/api/v1/models/a/status")).toHaveLength(1);
    expect(api.find("GET", "/api/v1/models/b/status")).toHaveLength(0);
    expect(screen.getByRole("progressbar", { name: "download progress a" })).toHaveAttribute("aria-valuenow", "49");

    // Another burst with nothing new: nothing fetched. Then a pause: one fetch.
    act(() => {
      for (let i = 50; i < 100; i++)
        FakeEventSource.latest.emit("download.progress", "a", progress("a", { progress_percent: i }) as never);
    });
    await wait(BATCH_MS + 100);
    expect(api.find("GET", "/api/v1/models/a/status")).toHaveLength(1);
    act(() => {
      for (let i = 0; i < 50; i++)
        FakeEventSource.latest.emit("download.progress", "a", progress("a", { status: "paused", can_pause: false, can_resume: true }) as never);
    });
    await wait(BATCH_MS + 100);
    expect(api.find("GET", "/api/v1/models/a/status")).toHaveLength(2);
    expect(api.find("GET", "/api/v1/models/b/status")).toHaveLength(0);
  });

  it("re-renders only the card a progress event is about", async () => {
    routes([status("a", { availability_status: "downloading" }), status("b"), status("c")]);
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model c" });
    await wait(50); // storage and queue answers settle
    const actionsFor = vi.mocked(modelActions.actionsFor);
    actionsFor.mockClear();
    act(() => FakeEventSource.latest.emit("download.progress", "a", progress("a", { progress_percent: 33 }) as never));
    expect(screen.getByRole("progressbar", { name: "download progress a" })).toHaveAttribute("aria-valuenow", "33");
    expect(actionsFor.mock.calls.map(([s]) => s.model_id)).toEqual(["a"]);
  });

  it("drops a model's status answer that is older than one already shown", async () => {
    const first = deferred<unknown>();
    let calls = 0;
    routes([status("a", { availability_status: "queued" })], {
      "GET /api/v1/models/a/status": (_: Call) => {
        calls += 1;
        return calls === 1 ? first.promise : status("a", { availability_status: "available", is_available: true });
      },
    });
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model a" });
    act(() => FakeEventSource.latest.emit("download.started", "a", {}));
    await wait(BATCH_MS + 50); // the first fetch is out, its answer held back
    act(() => FakeEventSource.latest.emit("download.state", "a", {}));
    await waitFor(() => expect(within(card("a")).getByTestId("state")).toHaveTextContent("Available"));
    first.resolve(status("a", { availability_status: "downloading" }));
    await wait(20);
    expect(within(card("a")).getByTestId("state")).toHaveTextContent("Available");
  });

  it("loads everything again after the stream reconnects", async () => {
    const api = routes([available("a")]);
    renderWithProviders(<ModelsView />);
    await screen.findByRole("article", { name: "model a" });
    act(() => FakeEventSource.latest.open());
    await wait(20);
    act(() => reconnectStream());
    await waitFor(() => expect(api.find("GET", "/api/v1/models/status")).toHaveLength(2));
    await waitFor(() => expect(api.find("GET", "/api/v1/models/a/versions")).toHaveLength(2));
  });
});
