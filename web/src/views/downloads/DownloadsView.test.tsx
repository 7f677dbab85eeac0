import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { ConnectionStatus } from "../../components/ConnectionStatus";
import { FakeEventSource, mockFetch } from "../../test/fakes";
import { progress, status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { DownloadsView } from "./DownloadsView";

function routes(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "GET /api/v1/queue": {
      data: [
        { model_id: "a", priority: "normal", position: 0, status: "downloading" },
        { model_id: "b", priority: "low", position: 1, status: "queued" },
      ],
      count: 2,
    },
    "GET /api/v1/models/status": {
      data: [status("a", { availability_status: "downloading" }), status("b", { availability_status: "queued" })],
      count: 2,
    },
    "GET /api/v1/models/a/download": progress("a", { progress_percent: 10 }),
    "GET /api/v1/models/b/download": progress("b", { status: "queued", progress_percent: 0, can_pause: false }),
    "GET /api/v1/bandwidth": { limit_mbps: 0 },
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
    expect(row).toHaveTextContent("4.3 GB of 10.0 GB");
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
    expect(within(item).getByRole("button", { name: "Move down" })).toBeDisabled();
    await user.click(within(item).getByRole("button", { name: "Move up" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/queue/b/move")[0]?.body).toEqual({ position: 0 }));
  });

  it("applies the bandwidth cap", async () => {
    setToken("t");
    const api = routes({ "PUT /api/v1/bandwidth": (c: { body: { limit_mbps: number } }) => ({ limit_mbps: c.body.limit_mbps }) });
    const user = userEvent.setup();
    renderWithProviders(<DownloadsView />);
    await waitFor(() => expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("Unlimited"));
    const input = screen.getByLabelText("Bandwidth cap (MB/s)");
    await user.clear(input);
    await user.type(input, "5");
    await user.click(screen.getByRole("button", { name: "Apply cap" }));
    await waitFor(() => expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("5 MB/s"));
    expect(api.find("PUT", "/api/v1/bandwidth")[0].body).toEqual({ limit_mbps: 5 });

    act(() => FakeEventSource.latest.emit("bandwidth.changed", null, { limit_mbps: 12 }));
    expect(screen.getByTestId("bandwidth-current")).toHaveTextContent("12 MB/s");
  });
});
