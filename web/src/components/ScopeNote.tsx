import type { Scope } from "../api/access";
import { scopeReason, useScope } from "../hooks/useScope";

/**
 * Where a view hides controls the dashboard's token cannot use, it says so here, once: the
 * same sentence everywhere (nothing while the token's scope covers `need`, or is unknown).
 */
export function ScopeNote({ what, need }: { what: string; need: Scope }) {
  const { whoami, can } = useScope();
  if (can(need)) return null;
  return (
    <p className="muted small scope-note" data-testid="scope-note">
      {scopeReason(what, need, whoami)}
    </p>
  );
}
