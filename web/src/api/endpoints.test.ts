// The scopes the dashboard hides controls by (NEEDS) against the service's OpenAPI document.
import { describe, expect, it } from "vitest";
import openapiText from "../../openapi.json?raw";
import { mockFetch } from "../test/fakes";
import { accessApi } from "./access";
import { API_PREFIX } from "./client";
import { api, NEEDS, type Guarded } from "./endpoints";

type Operation = { "x-modelward-scope"?: string };
const openapi = JSON.parse(openapiText) as {
  paths: Record<string, Record<string, Operation>>;
};

const JOB = { inputs: ["text"], quality: "high", speed: null, vram_gb: null, resolution: null };
/** Arguments for each call (the model id "m1" when not listed). */
const ARGS: Record<string, unknown[]> = {
  setPriority: ["m1", "high"],
  moveInQueue: ["m1", 1],
  setBandwidth: [0],
  purgeQuarantine: [false],
  remove: ["m1", false],
  cleanup: [{ keep_recent_days: 30, target_free_bytes: null, dry_run: true }],
  adopt: ["m1", { path: "/x", mode: "link" }],
  analytics: [7],
  operations: [7],
  cancelRequest: ["r1"],
  advice: ["m1", JOB],
  patchSettings: [{}],
  audit: [{}],
  fleetActions: [20],
  askFleet: [{ action: "pull", model_id: "m1", nodes: null }],
};

/** The OpenAPI operation a concrete call reaches: its path template and scope. */
function operationOf(method: string, path: string): { route: string; scope: string | undefined } {
  for (const [template, ops] of Object.entries(openapi.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    const op = ops[method.toLowerCase()];
    if (op && pattern.test(path)) return { route: `${method} ${template.slice(API_PREFIX.length)}`, scope: op["x-modelward-scope"] };
  }
  throw new Error(`no OpenAPI operation for ${method} ${path}`);
}

const calls = { ...api, ...accessApi } as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

describe("the scope of every call the dashboard makes", () => {
  it.each(Object.keys(calls))("%s: in NEEDS with the OpenAPI's route and scope, or a plain read", async (name) => {
    const fetch = mockFetch({});
    await calls[name](...(ARGS[name] ?? ["m1"])).catch(() => undefined);
    expect(fetch.calls).toHaveLength(1);
    const { method, path } = fetch.calls[0];
    const operation = operationOf(method, path);
    if (operation.scope === "read" || operation.scope === "public") {
      expect(Object.hasOwn(NEEDS, name), `${name} needs only read`).toBe(false);
      return;
    }
    expect(Object.hasOwn(NEEDS, name), `${name} (${operation.route}, ${operation.scope}) is missing from NEEDS`).toBe(true);
    expect(NEEDS[name as Guarded]).toEqual({ route: operation.route, scope: operation.scope });
  });

  it("lists only calls that exist", () => {
    for (const name of Object.keys(NEEDS)) expect(calls[name], name).toBeTypeOf("function");
  });
});
