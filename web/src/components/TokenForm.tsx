import { useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { getToken, onTokenChange, setToken } from "../api/token";

export const TOKEN_HELP =
  "It is the service's MODELWARD_TOKEN, or the one it generated in the api-token file in its home folder. It is kept only for this browser tab.";

/** The API token field: saved in sessionStorage, never shown back; "Forget token" removes it. */
export function TokenForm({
  onSaved,
  extraActions,
  autoFocus = false,
  allowForget = true,
}: {
  onSaved?: () => void;
  extraActions?: ReactNode;
  autoFocus?: boolean;
  /** Offer "Forget token" (clears it from this tab); off in the 401 prompt. */
  allowForget?: boolean;
}) {
  const id = useId();
  const [value, setValue] = useState("");
  const [saved, setSaved] = useState(() => getToken() !== null);
  useEffect(() => onTokenChange((token) => setSaved(token !== null)), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    setToken(value);
    setValue("");
    onSaved?.();
  };

  return (
    <form className="token-form" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-token`}>API token</label>
        <input
          id={`${id}-token`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder={saved ? "A token is saved for this tab" : "Paste the service's token"}
          aria-describedby={`${id}-help`}
          data-autofocus={autoFocus ? true : undefined}
        />
        <p id={`${id}-help`} className="field__help">
          {TOKEN_HELP}
        </p>
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={!value.trim()}>
          Save token
        </button>
        {allowForget ? (
          <button type="button" onClick={() => setToken(null)} disabled={!saved}>
            Forget token
          </button>
        ) : null}
        {extraActions}
      </div>
      <p className="muted" aria-live="polite">
        {saved ? "A token is saved for this browser tab." : "No token saved: changes will ask for one."}
      </p>
    </form>
  );
}
