// The one fetch wrapper: relative /api/v1 URLs, the token on mutations, typed errors.
import { ApiError, errorFromBody, networkError } from "./errors";
import { getToken } from "./token";

export const API_PREFIX = "/api/v1";

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Send the token on a read too (reads that need a scope: whoami, the audit log). */
  auth?: boolean;
}

/** Reads need the token too: the service listens beyond loopback (whoami says so). */
let readsNeedToken = false;
export function setReadsNeedToken(value: boolean): void {
  readsNeedToken = value;
}
const withToken = (method: Method, options: RequestOptions) => method !== "GET" || Boolean(options.auth) || readsNeedToken;

/** Asked when a mutation is refused with 401; resolves true once a new token is saved. */
export type UnauthorizedHandler = (error: ApiError) => Promise<boolean>;
let unauthorizedHandler: UnauthorizedHandler | null = null;

export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  unauthorizedHandler = handler;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const qs = params.toString();
  return `${API_PREFIX}${path}${qs ? `?${qs}` : ""}`;
}

async function send(method: Method, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const token = getToken();
  if (token && withToken(method, options)) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as { name?: string })?.name === "AbortError") throw error;
    throw networkError(error);
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const sentToken = withToken(method, options);
  let response = await send(method, path, options);
  if (response.status === 401 && !sentToken) {
    // A read refused: the service listens beyond loopback, and the page's first reads went
    // out before whoami said so. From now on reads carry the token (asked for if none).
    setReadsNeedToken(true);
    if (getToken()) response = await send(method, path, options);
  }
  if (response.status === 401 && withToken(method, options) && unauthorizedHandler) {
    const error = errorFromBody(401, response.statusText, await readJson(response));
    if (await unauthorizedHandler(error)) response = await send(method, path, options);
    else throw error;
  }
  const body = await readJson(response);
  if (!response.ok) throw errorFromBody(response.status, response.statusText, body);
  return body as T;
}

export const http = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>("POST", path, { body, query }),
  put: <T>(path: string, body?: unknown, query?: Query) => request<T>("PUT", path, { body, query }),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, { body }),
  del: <T>(path: string, query?: Query) => request<T>("DELETE", path, { query }),
};
