// The settings form works on strings (what the inputs hold); these turn settings into
// form values and back, and find which fields a person changed.
import type { EditableSettings, Settings, SettingsPatch } from "../../api/types";

export type FormValues = Record<keyof EditableSettings, string>;

const HOUR = 3600;
const GB = 1e9;

interface FieldSpec {
  /** Settings value → input string. */
  show: (value: never) => string;
  /** Input string → settings value; throws a message when the string is not valid. */
  parse: (text: string) => EditableSettings[keyof EditableSettings];
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(4)));
}

function positive(label: string, scale = 1, allowZero = false, integer = false) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
      throw new Error(`${label} must be a number${allowZero ? ", 0 or more" : " above 0"}.`);
    if (integer && !Number.isInteger(n)) throw new Error(`${label} must be a whole number.`);
    return integer ? n : Math.round(n * scale * 1000) / 1000;
  };
}

export const FIELDS: Record<keyof EditableSettings, FieldSpec> = {
  automation: { show: (v: string) => v, parse: (t) => t as EditableSettings["automation"] },
  health_check_level: { show: (v: string) => v, parse: (t) => t as EditableSettings["health_check_level"] },
  health_check_interval_s: {
    show: (v: number) => trimNumber(v / HOUR),
    parse: (t) => Math.round(positive("The health-check interval", HOUR)(t)),
  },
  health_check_at_start: { show: (v: boolean) => (v ? "true" : "false"), parse: (t) => t === "true" },
  update_policy: { show: (v: string) => v, parse: (t) => t as EditableSettings["update_policy"] },
  update_check_interval_s: {
    show: (v: number) => trimNumber(v / HOUR),
    parse: (t) => Math.round(positive("The update-check interval", HOUR)(t)),
  },
  low_space_bytes: {
    show: (v: number) => trimNumber(v / GB),
    parse: (t) => Math.round(positive("The low-space threshold", GB, true)(t)),
  },
  unused_after_days: { show: (v: number) => trimNumber(v), parse: positive("Unused after", 1) },
  keep_previous_successes: {
    show: (v: number) => String(v),
    parse: positive("Keep the previous version until", 1, true, true),
  },
  rollback_after_failures: {
    show: (v: number) => String(v),
    parse: positive("Roll back after", 1, false, true),
  },
  vram_gb: {
    show: (v: number | null) => (v === null ? "" : trimNumber(v)),
    parse: (t) => (t.trim() === "" ? null : positive("GPU memory", 1)(t)),
  },
};

export const FIELD_NAMES = Object.keys(FIELDS) as (keyof EditableSettings)[];

export function toForm(settings: Settings): FormValues {
  const values = {} as FormValues;
  for (const name of FIELD_NAMES) values[name] = FIELDS[name].show(settings[name] as never);
  return values;
}

/** Only the fields whose input differs from the loaded settings, parsed. */
export function changedFields(initial: FormValues, current: FormValues): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) {
    if (current[name] !== initial[name]) patch[name] = FIELDS[name].parse(current[name]);
  }
  return patch as SettingsPatch;
}
