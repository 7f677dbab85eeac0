import { useEffect, useId, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";

export function describeCap(limit: number): string {
  return limit > 0 ? `${Number(limit.toFixed(2))} MB/s` : "Unlimited";
}

/** The global download-rate cap (MiB/s, 0 = none); running transfers follow it at once. */
export function BandwidthControl() {
  const id = useId();
  const bandwidth = useResource(() => api.bandwidth(), []);
  const action = useAction();
  const [value, setValue] = useState("");
  const [touched, setTouched] = useState(false);
  const [notice, setNotice] = useState("");
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const current = bandwidth.data?.limit_mbps;

  useEffect(() => {
    if (current !== undefined && !touched) setValue(String(current));
  }, [current, touched]);

  useServerEvents(["bandwidth.changed"], (event) => {
    const limit = event.data.limit_mbps;
    if (typeof limit === "number") bandwidth.setData(() => ({ limit_mbps: limit }));
    else void bandwidth.reload();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const limit = Number(value);
    if (value.trim() === "" || !Number.isFinite(limit) || limit < 0) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-cap",
          message: "The cap must be a number of MB/s, 0 or more.",
          hint: "Enter 0 for no cap, or for example 20 for 20 MB/s.",
          retryable: false,
        }),
      );
      return;
    }
    setInvalid(null);
    setNotice("");
    const result = await action.run("apply", () => api.setBandwidth(limit));
    if (result) {
      bandwidth.setData(() => result);
      setTouched(false);
      setNotice(`Cap applied: ${describeCap(result.limit_mbps)}.`);
    }
  };

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Bandwidth</h2>
      <p>
        Current cap:{" "}
        <strong data-testid="bandwidth-current">{current === undefined ? "…" : describeCap(current)}</strong>
      </p>
      <ErrorAlert error={bandwidth.error} />
      <form className="inline-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-cap`}>Bandwidth cap (MB/s)</label>
          <input
            id={`${id}-cap`}
            type="number"
            min={0}
            step="any"
            inputMode="decimal"
            value={value}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={`${id}-help`}
            onChange={(e) => {
              setTouched(true);
              setValue(e.target.value);
            }}
          />
          <p id={`${id}-help`} className="field__help">
            0 means unlimited. Running downloads follow the new cap within a second.
          </p>
        </div>
        <button type="submit" className="primary" disabled={action.busy !== null}>
          Apply cap
        </button>
      </form>
      <ErrorAlert error={invalid ?? action.error} />
      <Notice>{notice}</Notice>
    </section>
  );
}
