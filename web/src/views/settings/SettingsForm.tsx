import { Fragment, useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { api } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import type { Settings } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { useAction } from "../../hooks/useAction";
import { LABELS } from "../../labels";
import { changedFields, toForm, type FormValues } from "./settingsForm";

const AUTOMATION = Object.entries(LABELS.automation);
const LEVELS = Object.entries(LABELS.verifyLevel);
const POLICIES = Object.entries(LABELS.updatePolicy);

/** Each setting's label, in the form and in the read-only list. */
export const FIELD_LABELS: Record<keyof FormValues, string> = {
  automation: "Automation",
  health_check_level: "Health-check level",
  health_check_interval_s: "Health-check interval (hours)",
  health_check_at_start: "Check health when the service starts",
  update_policy: "Update policy",
  update_check_interval_s: "Update-check interval (hours)",
  keep_previous_successes: "Keep previous version until this many jobs succeed",
  rollback_after_failures: "Roll back after this many failed jobs",
  low_space_bytes: "Low-space threshold (GB)",
  unused_after_days: "Unused after (days)",
  vram_gb: "VRAM (GB)",
};

/** How a form value reads when it cannot be changed. */
function shown(name: keyof FormValues, value: string): string {
  if (name === "automation") return LABELS.automation[value as keyof typeof LABELS.automation] ?? value;
  if (name === "health_check_level") return LABELS.verifyLevel[value as keyof typeof LABELS.verifyLevel] ?? value;
  if (name === "update_policy") return LABELS.updatePolicy[value as keyof typeof LABELS.updatePolicy] ?? value;
  if (name === "health_check_at_start") return value === "true" ? "yes" : "no";
  if (name === "vram_gb" && value === "") return "detected";
  return value;
}

/** The editable settings as plain values, for a token that may not change them. */
export function SettingsValues({ settings }: { settings: Settings }) {
  const id = useId();
  const values = toForm(settings);
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Service settings</h2>
      <dl className="facts" aria-label="Service settings">
        {(Object.keys(FIELD_LABELS) as (keyof FormValues)[]).map((name) => (
          <Fragment key={name}>
            <dt>{FIELD_LABELS[name]}</dt>
            <dd data-testid={`setting-${name}`}>{shown(name, values[name])}</dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}

/** The service's editable settings; Save sends only what changed (PATCH). */
export function SettingsForm({ settings, onSaved }: { settings: Settings; onSaved: (s: Settings) => void }) {
  const id = useId();
  const [initial, setInitial] = useState<FormValues>(() => toForm(settings));
  const [values, setValues] = useState<FormValues>(initial);
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState("");
  const action = useAction();
  const dirty = Object.keys(values).some((k) => values[k as keyof FormValues] !== initial[k as keyof FormValues]);

  // Settings loaded again (after a reconnect): show the new values, keeping the fields the
  // person has edited (so Save never sends back a value they did not touch).
  useEffect(() => {
    const form = toForm(settings);
    if (sameForm(initial, form)) return;
    const merged = { ...form };
    for (const k of Object.keys(form) as (keyof FormValues)[]) if (values[k] !== initial[k]) merged[k] = values[k];
    setInitial(form);
    setValues(merged);
    // Only when the loaded settings change, not on each keystroke.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settings]);

  const set = (name: keyof FormValues) => (value: string) => {
    setValues((old) => ({ ...old, [name]: value }));
    setNotice("");
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let patch;
    try {
      patch = changedFields(initial, values);
    } catch (error) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-input",
          message: (error as Error).message,
          hint: "Correct the value and save again.",
          retryable: false,
        }),
      );
      return;
    }
    setInvalid(null);
    if (Object.keys(patch).length === 0) {
      setNotice("Nothing changed.");
      return;
    }
    const saved = await action.run("save", () => api.patchSettings(patch));
    if (saved) {
      const form = toForm(saved);
      setInitial(form);
      setValues(form);
      setNotice(`Saved ${Object.keys(patch).length} setting(s).`);
      onSaved(saved);
    }
  };

  return (
    <form className="settings-form" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Service settings</h2>
      <fieldset>
        <legend>Health</legend>
        <Select label={FIELD_LABELS.automation} value={values.automation} onChange={set("automation")} options={AUTOMATION} />
        <Select
          label={FIELD_LABELS.health_check_level}
          value={values.health_check_level}
          onChange={set("health_check_level")}
          options={LEVELS}
        />
        <NumberField
          label={FIELD_LABELS.health_check_interval_s}
          value={values.health_check_interval_s}
          onChange={set("health_check_interval_s")}
        />
        <div className="field field--check">
          <input
            id={`${id}-at-start`}
            type="checkbox"
            checked={values.health_check_at_start === "true"}
            onChange={(e) => set("health_check_at_start")(e.target.checked ? "true" : "false")}
          />
          <label htmlFor={`${id}-at-start`}>{FIELD_LABELS.health_check_at_start}</label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Updates</legend>
        <Select label={FIELD_LABELS.update_policy} value={values.update_policy} onChange={set("update_policy")} options={POLICIES} />
        <NumberField
          label={FIELD_LABELS.update_check_interval_s}
          value={values.update_check_interval_s}
          onChange={set("update_check_interval_s")}
        />
        <NumberField
          label={FIELD_LABELS.keep_previous_successes}
          value={values.keep_previous_successes}
          onChange={set("keep_previous_successes")}
          step="1"
        />
        <NumberField
          label={FIELD_LABELS.rollback_after_failures}
          value={values.rollback_after_failures}
          onChange={set("rollback_after_failures")}
          step="1"
        />
      </fieldset>
      <fieldset>
        <legend>Storage and hardware</legend>
        <NumberField
          label={FIELD_LABELS.low_space_bytes}
          value={values.low_space_bytes}
          onChange={set("low_space_bytes")}
          help="Below this much free space the service warns and suggests what could go."
        />
        <NumberField
          label={FIELD_LABELS.unused_after_days}
          value={values.unused_after_days}
          onChange={set("unused_after_days")}
          help="Models not used for this long are offered for removal, never removed unasked."
        />
        <NumberField
          label={FIELD_LABELS.vram_gb}
          value={values.vram_gb}
          onChange={set("vram_gb")}
          placeholder="detect"
          help="The GPU memory jobs can use; empty to detect it."
        />
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={action.busy !== null}>
          Save settings
        </button>
        <button
          type="button"
          disabled={!dirty || action.busy !== null}
          onClick={() => {
            setValues(initial);
            setInvalid(null);
          }}
        >
          Undo changes
        </button>
      </div>
      <ErrorAlert error={invalid ?? action.error} onDismiss={invalid ? undefined : action.clearError} />
      <Notice>{notice}</Notice>
    </form>
  );
}

function sameForm(a: FormValues, b: FormValues): boolean {
  return Object.keys(a).every((k) => a[k as keyof FormValues] === b[k as keyof FormValues]);
}

function Field({ id, label, help, children }: { id: string; label: string; help?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {help ? (
        <p id={`${id}-help`} className="field__help">
          {help}
        </p>
      ) : null}
    </div>
  );
}

function Select({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: readonly (readonly [string, string])[];
}) {
  const id = useId();
  return (
    <Field id={id} label={label}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

function NumberField({
  label,
  value,
  onChange,
  help,
  placeholder,
  step = "any",
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  help?: string;
  placeholder?: string;
  step?: string;
}) {
  const id = useId();
  return (
    <Field id={id} label={label} help={help}>
      <input
        id={id}
        type="number"
        min={0}
        step={step}
        inputMode="decimal"
        value={value}
        placeholder={placeholder}
        aria-describedby={help ? `${id}-help` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}
