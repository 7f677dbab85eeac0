// The API token lives in sessionStorage only: gone when the tab closes, never in
// localStorage, a cookie or the URL.
const KEY = "modelward.apiToken";
type Listener = (token: string | null) => void;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the token is then asked for again on each 401
  }
}

export function getToken(): string | null {
  const value = storage()?.getItem(KEY) ?? null;
  return value ? value : null;
}

export function setToken(token: string | null): void {
  const value = token?.trim() ?? "";
  if (value) storage()?.setItem(KEY, value);
  else storage()?.removeItem(KEY);
  for (const listener of listeners) listener(value || null);
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const TOKEN_STORAGE_KEY = KEY;
