import { useEffect, useState } from "react";
import { accessApi, type Scope, type Whoami } from "../api/access";
import { setReadsNeedToken } from "../api/client";
import { getToken, onTokenChange } from "../api/token";

export const SCOPES: readonly Scope[] = ["read", "operate", "admin"];

/** True when a token of scope `have` may do what needs `need` (read < operate < admin). */
export function allows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

export interface ScopeState {
  /** The service's answer; null until it came (or when it could not be asked). */
  whoami: Whoami | null;
  /** Whether to show a control that needs `need`. Without a known token every control
   * shows (using one asks for the token); with one, only what its scope covers. */
  can: (need: Scope) => boolean;
}

// One question per token for the whole page, however many components ask.
let asked: { token: string | null; answer: Promise<Whoami | null> } | null = null;

function whoami(): Promise<Whoami | null> {
  const token = getToken();
  if (!asked || asked.token !== token) {
    const answer = accessApi.whoami().then(
      (who) => {
        setReadsNeedToken(!who.reads_open);
        return who;
      },
      () => null,
    );
    asked = { token, answer };
  }
  return asked.answer;
}

/** Forget the cached answer (tests; a new token is noticed by itself). */
export function resetScope(): void {
  asked = null;
  setReadsNeedToken(false);
}

/** The scope of the dashboard's token, to hide what it cannot do. */
export function useScope(): ScopeState {
  const [who, setWho] = useState<Whoami | null>(null);
  useEffect(() => {
    let live = true;
    const refresh = () => {
      void whoami().then((answer) => {
        if (live) setWho(answer);
      });
    };
    refresh();
    const off = onTokenChange(refresh);
    return () => {
      live = false;
      off();
    };
  }, []);
  const can = (need: Scope) => !who?.authenticated || !who.scope || allows(who.scope, need);
  return { whoami: who, can };
}

/** The one sentence a view shows where it hides controls: what needs which scope, and
 * what the dashboard's token has. */
export function scopeReason(what: string, need: Scope, who: Whoami | null): string {
  const token = who?.name ? `this token (${who.name}) is ${who.scope}` : `this token is ${who?.scope ?? "unknown"}`;
  return `${what} needs an ${need} token; ${token}.`;
}
