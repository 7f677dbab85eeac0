import { describe, expect, it, vi } from "vitest";
import { buildUrl, request, setReadsNeedToken, setUnauthorizedHandler } from "./client";
import { TOKEN_STORAGE_KEY } from "./token";
import { ApiError } from "./errors";
import { mockFetch, reply } from "../test/fakes";

describe("api client", () => {
  it("builds relative /api/v1 URLs, repeating list parameters and skipping empty ones", () => {
    expect(buildUrl("/models/a/strategy", { inputs: ["text", "image"], vram_gb: null, quality: "high", resolution: "" })).toBe(
      "/api/v1/models/a/strategy?inputs=text&inputs=image&quality=high",
    );
  });

  it("sends a refused read again with the token, and the reads after it too", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "reader");
    const api = mockFetch({
      "GET /api/v1/models": (c: { headers: Record<string, string> }) =>
        c.headers.Authorization === "Bearer reader" ? { data: [], count: 0 } : reply(401, { code: "unauthorized" }),
    });
    const prompt = vi.fn(async () => false);
    setUnauthorizedHandler(prompt);
    try {
      // Two at once, both sent before either was refused: neither asks for a token.
      const [a, b] = await Promise.all([request("GET", "/models"), request("GET", "/models")]);
      expect([a, b]).toEqual([{ data: [], count: 0 }, { data: [], count: 0 }]);
      await request("GET", "/models");
      expect(api.calls.map((c) => c.headers.Authorization)).toEqual([undefined, undefined, ...Array(3).fill("Bearer reader")]);
      expect(prompt).not.toHaveBeenCalled();
    } finally {
      setReadsNeedToken(false);
      setUnauthorizedHandler(null);
    }
  });

  it("parses the service's error JSON into an ApiError", async () => {
    mockFetch({ "GET /api/v1/x": reply(409, { code: "busy", message: "It is busy.", hint: "Wait.", retryable: true }) });
    const error = await request("GET", "/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "busy", message: "It is busy.", hint: "Wait.", retryable: true });
  });

  it("turns FastAPI's validation details into a message", async () => {
    mockFetch({ "GET /api/v1/x": reply(422, { detail: [{ loc: ["query", "days"], msg: "must be at least 1" }] }) });
    await expect(request("GET", "/x")).rejects.toMatchObject({
      code: "request-invalid",
      message: "days: must be at least 1",
    });
  });

  it("explains an unreachable service", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(request("GET", "/x")).rejects.toMatchObject({ code: "network", message: "Could not reach the modelward service." });
  });

  it("explains a non-JSON failure", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" })));
    const error = (await request("GET", "/x").catch((e: unknown) => e)) as ApiError;
    expect(error.message).toBe("The service answered 502 Bad Gateway.");
    expect(error.hint).not.toBe("");
  });
});
