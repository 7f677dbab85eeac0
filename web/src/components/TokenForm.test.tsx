import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { api } from "../api/endpoints";
import { getToken, TOKEN_STORAGE_KEY } from "../api/token";
import { mockFetch, type Call } from "../test/fakes";
import { renderWithProviders } from "../test/render";
import { TokenForm } from "./TokenForm";

describe("API token", () => {
  it("is kept in sessionStorage only", async () => {
    const user = userEvent.setup();
    renderWithProviders(<TokenForm />);
    await user.type(screen.getByLabelText("API token"), "s3cret");
    await user.click(screen.getByRole("button", { name: "Save token" }));
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe("s3cret");
    expect(window.localStorage.length).toBe(0);
    expect(window.location.href).not.toContain("s3cret");
    expect(screen.getByLabelText("API token")).toHaveValue("");
    expect(screen.getByText("A token is saved for this browser tab.")).toBeInTheDocument();
  });

  it("can be forgotten", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "old");
    const user = userEvent.setup();
    renderWithProviders(<TokenForm />);
    expect(screen.getByText("A token is saved for this browser tab.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Forget token" }));
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(getToken()).toBeNull();
    expect(screen.getByText("No token saved: changes will ask for one.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Forget token" })).toBeDisabled();
  });

  it("is sent on mutations, never on reads", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "abc");
    const fetch = mockFetch({ "GET /api/v1/queue": { data: [], count: 0 }, "PUT /api/v1/bandwidth": { limit_mbps: 1 } });
    await api.queue();
    await api.setBandwidth(1);
    expect(fetch.calls[0].headers.Authorization).toBeUndefined();
    expect(fetch.calls[1].headers.Authorization).toBe("Bearer abc");
  });

  it("is asked for when a mutation gets 401, then the mutation is retried", async () => {
    const fetch = mockFetch({
      "PUT /api/v1/bandwidth": (c: Call) =>
        c.headers.Authorization === "Bearer right"
          ? { limit_mbps: 3 }
          : { status: 401, body: { code: "unauthorized", message: "this action needs the service's bearer token", hint: "Send it.", retryable: false } },
    });
    const user = userEvent.setup();
    renderWithProviders(<div />);
    const result = api.setBandwidth(3);
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByRole("alert")).toHaveTextContent("bearer token");
    await user.type(within(dialog).getByLabelText("API token"), "right");
    await user.click(within(dialog).getByRole("button", { name: "Save token" }));
    await expect(result).resolves.toEqual({ limit_mbps: 3 });
    expect(getToken()).toBe("right");
    expect(fetch.find("PUT", "/api/v1/bandwidth")).toHaveLength(2);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("gives the 401 back when the person declines", async () => {
    mockFetch({
      "POST /api/v1/models/m/pause": { status: 401, body: { code: "unauthorized", message: "needs token", hint: "h", retryable: false } },
    });
    const user = userEvent.setup();
    renderWithProviders(<div />);
    const result = api.pause("m").catch((e: unknown) => e);
    await user.click(await screen.findByRole("button", { name: "Not now" }));
    expect(await result).toMatchObject({ status: 401, code: "unauthorized", message: "needs token", hint: "h" });
  });
});
