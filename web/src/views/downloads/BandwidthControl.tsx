import { useId, useState, type FormEvent } from "react";
import { api, scopeOf } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { formatRate, parseRate, RATE_FORMS, rateInput, UnitError } from "../../format";

/** The global download-rate cap (bytes per second, 0 = none); running transfers follow it at once. */
export function BandwidthControl() {
  const id = useId();
  const bandwidth = useResource(() => api.bandwidth(), []);
  const action = useAction();
  const canSet = useScope().can(scopeOf("setBandwidth"));
  const [value, setValue] = useState("");
  const [touched, setTouched] = useState(false);
  const [notice, setNotice] = useState("");
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const current = bandwidth.data?.limit_bytes_per_s;

  // Until a person types, the field shows the service's cap (derived, so a late answer or
  // an event can never overwrite what they are typing).
  const shown = touched ? value : current === undefined ? "" : rateInput(current);

  useServerEvents(["bandwidth.changed"], (event) => {
    const limit = event.data.limit_bytes_per_s;
    if (typeof limit === "number") bandwidth.setData(() => ({ limit_bytes_per_s: limit }));
    else void bandwidth.reload();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let limit: number;
    try {
      limit = parseRate(shown);
    } catch (error) {
      if (!(error instanceof UnitError)) throw error;
      const body = { code: "invalid-cap", message: error.message, hint: error.hint, retryable: false };
      setInvalid(new ApiError(0, body));
      return;
    }
    setInvalid(null);
    setNotice("");
    const result = await action.run("apply", () => api.setBandwidth(limit));
    if (result) {
      bandwidth.setData(() => result);
      setTouched(false);
      setNotice(`Cap applied: ${formatRate(result.limit_bytes_per_s)}.`);
    }
  };

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Bandwidth</h2>
      <p>
        Current cap:{" "}
        <strong data-testid="bandwidth-current">{current === undefined ? "…" : formatRate(current)}</strong>
      </p>
      <ErrorAlert error={bandwidth.error} />
      <ScopeNote what="Changing the cap" need={scopeOf("setBandwidth")} />
      {canSet ? (
        <form className="inline-form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-cap`}>Bandwidth cap</label>
            <input
              id={`${id}-cap`}
              type="text"
              placeholder="e.g. 20MB/s"
              spellCheck={false}
              autoComplete="off"
              value={shown}
              aria-invalid={invalid ? true : undefined}
              aria-describedby={`${id}-help`}
              onChange={(e) => {
                setTouched(true);
                setValue(e.target.value);
              }}
            />
            <p id={`${id}-help`} className="field__help">
              A rate with its unit: {RATE_FORMS}. Running downloads follow the new cap within a second.
            </p>
          </div>
          <button type="submit" className="primary" disabled={action.busy !== null}>
            Apply cap
          </button>
        </form>
      ) : null}
      <ErrorAlert error={invalid ?? action.error} />
      <Notice>{notice}</Notice>
    </section>
  );
}
