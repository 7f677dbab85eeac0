import { useEffect, useId, useState, type ReactNode } from "react";
import { setUnauthorizedHandler } from "../api/client";
import type { ApiError } from "../api/errors";
import { getToken } from "../api/token";
import { ErrorAlert } from "./ErrorAlert";
import { Modal } from "./Modal";
import { TokenForm } from "./TokenForm";

interface Pending {
  error: ApiError;
  hadToken: boolean;
  finish: (saved: boolean) => void;
}

/** When a change is refused for want of a token (401), asks for it once and retries. */
export function TokenPromptProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  useEffect(() => {
    let current: Promise<boolean> | null = null;
    setUnauthorizedHandler((error) => {
      if (!current) {
        current = new Promise<boolean>((resolve) => {
          setPending({
            error,
            hadToken: getToken() !== null,
            finish: (saved) => {
              current = null;
              setPending(null);
              resolve(saved);
            },
          });
        });
      }
      return current;
    });
    return () => setUnauthorizedHandler(null);
  }, []);
  return (
    <>
      {children}
      {pending ? <TokenDialog pending={pending} /> : null}
    </>
  );
}

function TokenDialog({ pending }: { pending: Pending }) {
  const id = useId();
  return (
    <Modal labelledBy={`${id}-title`} describedBy={`${id}-body`} onClose={() => pending.finish(false)}>
      <h2 id={`${id}-title`}>API token needed</h2>
      <div id={`${id}-body`}>
        <ErrorAlert error={pending.error} />
        <p>
          {pending.hadToken
            ? "The service refused the saved token. Enter the current one to go on."
            : "Changes need the service's API token. Enter it once and the action goes on."}
        </p>
      </div>
      <TokenForm
        autoFocus
        allowForget={false}
        onSaved={() => pending.finish(true)}
        extraActions={
          <button type="button" onClick={() => pending.finish(false)}>
            Not now
          </button>
        }
      />
    </Modal>
  );
}
