import { describe, expect, it, vi } from "vitest";
import { buildUrl, request } from "./client";
import { ApiError } from "./errors";
import { mockFetch, reply } from "../test/fakes";

describe("api client", () => {
  it("builds relative /api/v1 URLs, repeating list parameters and skipping empty ones", () => {
    expect(buildUrl("/models/a/strategy", { inputs: ["text", "image"], vram_gb: null, quality: "high", resolution: "" })).toBe(
      "/api/v1/models/a/strategy?inputs=text&inputs=image&quality=high",
    );
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
