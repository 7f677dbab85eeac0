import type { ApiError } from "../api/errors";
import "./ErrorAlert.css";

/** A failed request as a person reads it: what happened and what to do. */
export function ErrorAlert({ error, onDismiss }: { error: ApiError | null | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error-alert" role="alert">
      <p className="error-alert__message">{error.message}</p>
      {error.hint ? <p className="error-alert__hint">{error.hint}</p> : null}
      <p className="error-alert__code">
        {error.code}
        {error.status ? ` · HTTP ${error.status}` : ""}
        {error.retryable ? " · worth retrying" : ""}
      </p>
      {onDismiss ? (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
