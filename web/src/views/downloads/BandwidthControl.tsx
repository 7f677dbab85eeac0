import { useEffect, useId, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";

/** Bytes in a MiB: the cap's unit (the API's `limit_mbps` is MiB/s). */
export const MIB = 2 ** 20;

export function describeCap(limit: number): string {
  return limit > 0 ? `${Number(limit.toFixed(2))} MiB/s` : "Unlimited";
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

  // The event carries the cap in bytes per second; the API and this form use MiB/s.
  useServerEvents(["bandwidth.changed"], (event) => {
    const bytesPerSecond = event.data.limit_bytes_per_s;
    if (typeof bytesPerSecond === "number") bandwidth.setData(() => ({ limit_mbps: bytesPerSecond / MIB }));
    else void bandwidth.reload();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const limit = Number(value);
    if (value.trim() === "" || !Number.isFinite(limit) || limit < 0) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-cap",
          message: "The cap must be a number of MiB/s, 0 or more.",
          hint: "Enter 0 for no cap, or for example 20 for 20 MiB/s.",
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
            The cap is in MiB/s (1 MiB = 1,048,576 bytes); 0 means unlimited. Running downloads follow the new cap
            within a second.
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
