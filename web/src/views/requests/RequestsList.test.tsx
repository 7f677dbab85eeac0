import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { FakeEventSource, mockFetch } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { RequestsList } from "./RequestsList";

const now = Date.now() / 1000;
const queued = {
  request_id: "r1",
  model_id: "t2v-a14b",
  payload: {},
  state: "queued",
  created_at: now - 60,
  expires_at: now + 3630, // "in 1 h" however long the test takes to render (under 30 s)
  position: 0,
};

describe("RequestsList", () => {
  it("lists queued jobs with their model's ETA and cancels one", async () => {
    setToken("t");
    let list = [queued];
    const api = mockFetch({
      "GET /api/v1/requests": () => list,
      "GET /api/v1/models/t2v-a14b/wait": {
        model_id: "t2v-a14b",
        seconds: 600,
        low_seconds: 300,
        high_seconds: 900,
        remaining_bytes: 1,
        bytes_ahead: 0,
        queue_position: 0,
        speed_bytes_per_s: 1,
        speed_measured: true,
        verification_seconds: 0,
        reason: "",
      },
      "DELETE /api/v1/requests/r1": () => {
        list = [];
        return { ...queued, state: "cancelled" };
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<RequestsList />);
    const row = await screen.findByRole("row", { name: "request r1" });
    expect(row).toHaveTextContent("t2v-a14b");
    expect(row).toHaveTextContent("in 1 h");
    await waitFor(() => expect(row).toHaveTextContent("10 min (5 min–15 min)"));

    await user.click(within(row).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(api.find("DELETE", "/api/v1/requests/r1")).toHaveLength(1));
    expect(await screen.findByText(/No job is waiting for a model/)).toBeInTheDocument();

    // A new job queued elsewhere shows up from the event alone.
    list = [{ ...queued, request_id: "r2" }];
    act(() => FakeEventSource.latest.emit("request.queued", "t2v-a14b", { request_id: "r2" }));
    expect(await screen.findByRole("row", { name: "request r2" })).toBeInTheDocument();
  });
});
