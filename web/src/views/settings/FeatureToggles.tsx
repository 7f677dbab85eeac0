import { useId } from "react";
import { api } from "../../api/endpoints";
import type { FeatureName, Settings } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useAction } from "../../hooks/useAction";
import { FEATURE_NAMES, FEATURES } from "./features";

/** A switch per enhancement; each change is sent at once and applies without a restart.
 * `readOnly` (a token that may not change settings): each feature's state as text. */
export function FeatureToggles({
  settings,
  readOnly = false,
  onSaved,
}: {
  settings: Settings;
  readOnly?: boolean;
  onSaved: (s: Settings) => void;
}) {
  const id = useId();
  const action = useAction();
  const toggle = async (name: FeatureName, on: boolean) => {
    const saved = await action.run(name, () => api.patchSettings({ features: { [name]: on } }));
    if (saved) onSaved(saved);
  };
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Features</h2>
      <p className="muted">Switched off, the service does that part as the plain base system would.</p>
      <ul className="features">
        {FEATURE_NAMES.map((name) => {
          const on = settings.features[name];
          const text = FEATURES[name];
          return (
            <li key={name} className="field field--check">
              {readOnly ? (
                <span className={`badge badge--${on ? "available" : "missing"}`} data-testid={`feature-${name}`}>
                  {on ? "On" : "Off"}
                </span>
              ) : (
                <input
                  id={`${id}-${name}`}
                  type="checkbox"
                  role="switch"
                  checked={on}
                  disabled={action.busy !== null}
                  aria-describedby={`${id}-${name}-help`}
                  onChange={(e) => void toggle(name, e.target.checked)}
                />
              )}
              {readOnly ? <span>{text.name}</span> : <label htmlFor={`${id}-${name}`}>{text.name}</label>}
              <p id={`${id}-${name}-help`} className="field__help">
                {on ? text.on : `Off: ${text.off}`}
              </p>
            </li>
          );
        })}
      </ul>
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
    </section>
  );
}
