import type { ReactNode } from "react";

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** Shown when a list is empty: one sentence saying what to do. */
export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="empty-state">{children}</p>;
}

/** A short "done" note after an action, announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="notice" aria-live="polite">
      {children}
    </p>
  );
}

/** Something that did not go as shown or planned: announced at once. */
export function Warning({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="warning" role="alert">
      {children}
    </div>
  );
}
