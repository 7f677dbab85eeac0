import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { ConnectionStatus } from "../../components/ConnectionStatus";
import { apiError, deferred, FakeEventSource, mockFetch } from "../../test/fakes";
import { progress, status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { DownloadsView } from "./DownloadsView";

function routes(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "GET /api/v1/queue": {
      data: [
        { model_id: "a", priority: "normal", position: 1, status: "downloading" },
        { model_id: "b", priority: "low", position: 2, status: "queued" },
      ],
      count: 2,
    },
    "GET /api/v1/models/status": {
      data: [status("a", { availability_status: "downloading" }), status("b", { availability_status: "queued" })],
      count: 2,
    },
    "GET /api/v1/models/a/download": progress("a", { progress_percent: 10 }),
    "GET /api/v1/models/b/download": progress("b", { status: "queued", progress_percent: 0, can_pause: false }),
    "GET /api/v1/bandwidth": { limit_bytes_per_s: 0 },
    ...extra,
  });
}

describe("DownloadsView", () => {
  it("moves the bar when a download.progress event arrives", async () => {
    routes();
    renderWithProviders(
      <>
        <ConnectionStatus />
        <DownloadsView />
      </>,
    );
    const bar = await screen.findByRole("progressbar", { name: "download progress a" });
    expect(bar).toHaveAttribute("aria-valuenow", "10");
    expect(screen.getByTestId("connection")).toHaveTextContent("Reconnecting…");

    act(() => FakeEventSource.latest.open());
    expect(screen.getByTestId("connection")).toHaveTextContent("Live");
    act(() =>
      FakeEventSource.latest.emit(
        "download.progress",
        "a",
        progress("a", { progress_percent: 42.6, downloaded_bytes: 4_260_000_000, speed_bytes_per_s: 25_000_000, retry_count: 2 }) as never,
      ),
    );
    expect(bar).toHaveAttribute("aria-valuenow", "43");
    const row = screen.getByRole("article", { name: "download a" });
    expect(row).toHaveTextContent("4.26 GB of 10.0 GB");
    expect(row).toHaveTextContent("25.0 MB/s");
    expect(row).toHaveTextContent("2 of 5");

    // A model that starts downloading later gets its own bar from the event alone.
    act(() => FakeEventSource.latest.emit("download.progress", "c", progress("c", { progress_percent: 5 }) as never));
    expect(screen.getByRole("progressbar", { name: "download progress c" })).toHaveAttribute("aria-valuenow", "5");

    act(() => FakeEventSource.latest.fail());
    expect(screen.getByTestId("connection")).toHaveTextContent("Reconnecting…");
  });

  it("moves a model in the queue", async () => {
    setToken("t");
    const api = routes({ "POST /api/v1/queue/b/move": { order: ["b", "a"] } });
    const user = userEvent.setup();
    renderWithProviders(<DownloadsView />);
    const item = await screen.findByRole("listitem", { name: "queue b" });
    expect(within(item).getByRole("button", { name: "Move b down" })).toBeDisabled();
    // Each button says which model it moves.
    expect(screen.getAllByRole("button", { name: /^Move / }).map((b) => b.textContent)).toEqual([
      "Move a up",
      "Move a down",
      "Move b up",
      "Move b down",
    ]);
    await user.click(within(item).getByRole("button", { name: "Move b up" }));
    // Places are the API's positions (1 = the front), as the CLI shows them.
    expect(item.querySelector(".queue__pos")).toHaveTextContent("2");
    expect(within(item).getByText("Low")).toBeInTheDocument();
    await waitFor(() => expect(api.find("POST", "/api/v1/queue/b/move")[0]?.body).toEqual({ position: 1 }));
  });

  it("applies the bandwidth cap written with its unit, and shows it in MB/s", async () => {
    setToken("t");
    const api = routes({
      "PUT /api/v1/bandwidth": (c: { body: { limit_bytes_per_s: number } }) => ({ limit_bytes_per_s: c.body.limit_bytes_per_s }),
    });
    const user = userEvent.setup();
    renderWithProviders(<DownloadsView />);
    await waitFor(() => expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("unlimited"));
    const input = screen.getByLabelText("Bandwidth cap");
    const apply = screen.getByRole("button", { name: "Apply cap" });

    // A number alone is refused, with the forms that are accepted; nothing is sent.
    await user.clear(input);
    await user.type(input, "20");
    await user.click(apply);
    const refusal = await screen.findByRole("alert");
    expect(refusal).toHaveTextContent('"20" has no unit');
    expect(refusal).toHaveTextContent("20MB/s, 160Mbit/s or 1.5GiB/s");
    expect(api.find("PUT", "/api/v1/bandwidth")).toHaveLength(0);

    await user.clear(input);
    await user.type(input, "4MB/s");
    await user.click(apply);
    await waitFor(() => expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("4.00 MB/s"));
    expect(api.find("PUT", "/api/v1/bandwidth")[0].body).toEqual({ limit_bytes_per_s: 4_000_000 });
    expect(screen.getByText("Cap applied: 4.00 MB/s.")).toBeInTheDocument();

    await user.clear(input);
    await user.type(input, "160Mbit/s");
    await user.click(apply);
    await waitFor(() => expect(api.find("PUT", "/api/v1/bandwidth")[1]?.body).toEqual({ limit_bytes_per_s: 20_000_000 }));
    await waitFor(() => expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("20.0 MB/s"));
    expect(input).toHaveValue("20MB/s");

    // The service's event carries bytes per second; a binary cap reads in decimal units.
    act(() => FakeEventSource.latest.emit("bandwidth.changed", null, { limit_bytes_per_s: 4 * 2 ** 20 }));
    expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("4.19 MB/s");
    expect(input).toHaveValue("4MiB/s");
    act(() => FakeEventSource.latest.emit("bandwidth.changed", null, { limit_bytes_per_s: 0 }));
    expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("unlimited");
  });

  it("lists only queued and unfinished downloads; finished ones leave the list", async () => {
    let queued = [
      { model_id: "a", priority: "normal", position: 1, status: "downloading" },
      { model_id: "b", priority: "low", position: 2, status: "queued" },
    ];
    routes({ "GET /api/v1/queue": () => ({ data: queued, count: queued.length }) });
    renderWithProviders(<DownloadsView />);
    await screen.findByRole("progressbar", { name: "download progress a" });
    act(() => FakeEventSource.latest.open());
    // The service sends progress after other events too: a model that is not downloading
    // ("not_started", "completed", "cancelled") gets no row.
    act(() => FakeEventSource.latest.emit("download.progress", "idle", progress("idle", { status: "not_started" }) as never));
    act(() => FakeEventSource.latest.emit("download.progress", "done", progress("done", { status: "completed" }) as never));
    expect(screen.queryByRole("article", { name: "download idle" })).not.toBeInTheDocument();
    expect(screen.queryByRole("article", { name: "download done" })).not.toBeInTheDocument();
    for (const s of ["failed", "paused", "verifying"] as const) {
      act(() => FakeEventSource.latest.emit("download.progress", s, progress(s, { status: s }) as never));
      expect(screen.getByRole("article", { name: `download ${s}` })).toBeInTheDocument();
    }
    // a finishes: listed while the queue still holds it, gone once it has left.
    act(() => FakeEventSource.latest.emit("download.progress", "a", progress("a", { status: "completed", progress_percent: 100 }) as never));
    expect(screen.getByRole("article", { name: "download a" })).toBeInTheDocument(); // still in the queue
    queued = [{ model_id: "b", priority: "low", position: 1, status: "queued" }];
    act(() => FakeEventSource.latest.emit("queue.changed", null, {}));
    await waitFor(() => expect(screen.queryByRole("article", { name: "download a" })).not.toBeInTheDocument());
    expect(screen.getByRole("article", { name: "download b" })).toBeInTheDocument();
  });

  it("shows the empty state when nothing is queued or under way", async () => {
    mockFetch({
      "GET /api/v1/queue": { data: [], count: 0 },
      "GET /api/v1/models/status": { data: [status("a", { availability_status: "available", is_available: true })], count: 1 },
      "GET /api/v1/bandwidth": { limit_bytes_per_s: 0 },
    });
    renderWithProviders(<DownloadsView />);
    expect(await screen.findByText("No downloads are running. Start one with Download on the Models page.")).toBeInTheDocument();
    act(() => FakeEventSource.latest.emit("download.progress", "a", progress("a", { status: "completed" }) as never));
    expect(screen.getByText("No downloads are running. Start one with Download on the Models page.")).toBeInTheDocument();
  });

  it("asks for a model's progress once, even when it fails, until an event says it changed", async () => {
    const api = routes({
      "GET /api/v1/queue": {
        data: [
          { model_id: "a", priority: "normal", position: 1, status: "downloading" },
          { model_id: "x", priority: "low", position: 2, status: "queued" },
        ],
        count: 2,
      },
      "GET /api/v1/models/x/download": apiError(500, "internal", "broken"),
    });
    renderWithProviders(<DownloadsView />);
    await screen.findByRole("progressbar", { name: "download progress a" });
    await waitFor(() => expect(api.find("GET", "/api/v1/models/x/download")).toHaveLength(1));
    act(() => FakeEventSource.latest.open());
    act(() => {
      for (let i = 0; i < 50; i++)
        FakeEventSource.latest.emit("download.progress", "a", progress("a", { progress_percent: i }) as never);
    });
    await act(() => new Promise((resolve) => setTimeout(resolve, 150)));
    expect(api.find("GET", "/api/v1/models/x/download")).toHaveLength(1);
    expect(api.find("GET", "/api/v1/models/a/download")).toHaveLength(1);

    // An event about x's download: asked again, once.
    act(() => FakeEventSource.latest.emit("download.state", "x", { state: "queued" }));
    await waitFor(() => expect(api.find("GET", "/api/v1/models/x/download")).toHaveLength(2));
    await act(() => new Promise((resolve) => setTimeout(resolve, 150)));
    expect(api.find("GET", "/api/v1/models/x/download")).toHaveLength(2);
  });

  it("keeps a progress event over an older answer to a progress request", async () => {
    const held = deferred<unknown>();
    const api = routes({ "GET /api/v1/models/a/download": () => held.promise });
    renderWithProviders(<DownloadsView />);
    await waitFor(() => expect(api.find("GET", "/api/v1/models/a/download")).toHaveLength(1));
    act(() => FakeEventSource.latest.emit("download.progress", "a", progress("a", { progress_percent: 60 }) as never));
    held.resolve(progress("a", { progress_percent: 10 }));
    await act(() => new Promise((resolve) => setTimeout(resolve, 100)));
    expect(screen.getByRole("progressbar", { name: "download progress a" })).toHaveAttribute("aria-valuenow", "60");
  });
});
