import { renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { http } from "../api/client";
import { TOKEN_STORAGE_KEY } from "../api/token";
import { mockFetch } from "../test/fakes";
import { allows, resetScope, useScope } from "./useScope";

const who = (scope: string | null, reads_open = true) => ({
  name: scope ? "t" : null,
  scope,
  authenticated: scope !== null,
  reads_open,
});

describe("useScope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it("orders the scopes", () => {
    expect(allows("admin", "operate")).toBe(true);
    expect(allows("operate", "admin")).toBe(false);
    expect(allows("read", "read")).toBe(true);
  });

  it("hides what a known token cannot do, and asks once with the token", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "secret");
    const api = mockFetch({ "GET /api/v1/whoami": who("operate") });
    const { result } = renderHook(() => useScope());
    await waitFor(() => expect(result.current.whoami?.scope).toBe("operate"));
    expect(result.current.can("operate")).toBe(true);
    expect(result.current.can("admin")).toBe(false);
    const second = renderHook(() => useScope());
    await waitFor(() => expect(second.result.current.whoami?.scope).toBe("operate"));
    expect(api.find("GET", "/api/v1/whoami")).toHaveLength(1);
    expect(api.calls[0].headers.Authorization).toBe("Bearer secret");
  });

  it("shows every control without a token (using one asks for it)", async () => {
    mockFetch({ "GET /api/v1/whoami": who(null) });
    const { result } = renderHook(() => useScope());
    await waitFor(() => expect(result.current.whoami).not.toBeNull());
    expect(result.current.can("admin")).toBe(true);
  });

  it("sends the token on every read when the service is not on loopback", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "secret");
    const api = mockFetch({ "GET /api/v1/whoami": who("read", false), "GET /api/v1/queue": { data: [], count: 0 } });
    const { result } = renderHook(() => useScope());
    await waitFor(() => expect(result.current.whoami).not.toBeNull());
    await http.get("/queue");
    expect(api.find("GET", "/api/v1/queue")[0].headers.Authorization).toBe("Bearer secret");
  });
});
