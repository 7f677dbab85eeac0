import type { ErrorBody } from "./types";

/** An error the service (or the way to it) gave; `message` and `hint` are for people. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string;
  readonly retryable: boolean;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
    this.retryable = body.retryable;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/** The error of a failed response, whatever shape its body has. */
export function errorFromBody(status: number, statusText: string, body: unknown): ApiError {
  if (isErrorBody(body)) {
    return new ApiError(status, {
      code: body.code,
      message: body.message,
      hint: typeof body.hint === "string" ? body.hint : "",
      retryable: Boolean(body.retryable),
    });
  }
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const parts = (detail as ValidationItem[]).map((d) => {
      const where = (d.loc ?? []).filter((p) => p !== "body" && p !== "query").join(".");
      return where ? `${where}: ${d.msg ?? "invalid"}` : (d.msg ?? "invalid");
    });
    return new ApiError(status, {
      code: "request-invalid",
      message: parts.join("; ") || "The request was not valid.",
      hint: "Correct the highlighted values and try again.",
      retryable: false,
    });
  }
  if (typeof detail === "string") {
    return new ApiError(status, { code: `http-${status}`, message: detail, hint: "", retryable: false });
  }
  return new ApiError(status, {
    code: `http-${status}`,
    message: `The service answered ${status}${statusText ? ` ${statusText}` : ""}.`,
    hint:
      status >= 500
        ? "The service had a problem; its log says more. Try again in a moment."
        : "Reload the page; if it persists, check the service's version matches this dashboard.",
    retryable: status >= 500,
  });
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, {
    code: "network",
    message: "Could not reach the modelward service.",
    hint: "Check that `modelward serve` is running and that this machine can reach it, then try again.",
    retryable: true,
  });
  (error as { cause?: unknown }).cause = cause;
  return error;
}

/** Any thrown value as an ApiError, so views always have a message and a hint to show. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, {
    code: "client-error",
    message: message || "Something went wrong in the dashboard.",
    hint: "Reload the page and try again.",
    retryable: true,
  });
}
