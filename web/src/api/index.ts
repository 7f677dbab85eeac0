export { api } from "./endpoints";
export { ApiError, toApiError } from "./errors";
export { setUnauthorizedHandler } from "./client";
export { getToken, setToken, onTokenChange } from "./token";
export type * from "./types";
