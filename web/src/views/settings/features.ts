// The enhancements that can be switched off: a name and what each does, in people's words.
// The compiler checks the table against the API's `features` object, so a new feature
// cannot be forgotten here.
import type { FeatureName } from "../../api/types";

export interface FeatureText {
  name: string;
  /** What it does when on. */
  on: string;
  /** What the service does instead when it is off. */
  off: string;
}

export const FEATURES = {
  retries: {
    name: "Retries",
    on: "A failed transfer is tried again, with growing pauses.",
    off: "Each file gets one attempt.",
  },
  segmented_transfer: {
    name: "Segmented transfer",
    on: "Large files are fetched over several connections at once.",
    off: "One connection per file.",
  },
  scheduled_health_checks: {
    name: "Scheduled health checks",
    on: "Models are checked when the service starts and on a schedule.",
    off: "Checks run only when a person asks.",
  },
  automatic_repair: {
    name: "Automatic repair",
    on: "With automation on auto, damaged or missing models are repaired or fetched.",
    off: "Findings are proposed; nothing starts by itself.",
  },
  alternative_suggestions: {
    name: "Alternative suggestions",
    on: "Another model is offered when the requested one is not ready.",
    off: "Only the requested model: download and retry, queue, or mock.",
  },
  request_queueing: {
    name: "Request queueing",
    on: "A job waits in a queue until its model is ready.",
    off: "Jobs are not queued; run them again once the model is ready.",
  },
  mock_fallback: {
    name: "Mock fallback",
    on: "When no model can run a job, a clearly labelled mock output is served.",
    off: "No mock output: the answer says no model can run the job.",
  },
  usage_analytics: {
    name: "Usage analytics",
    on: "Jobs are recorded for statistics and recommendations.",
    off: "Nothing new is recorded; nothing is recommended from usage.",
  },
  update_checks: {
    name: "Update checks",
    on: "Upstream is asked for new versions on a schedule.",
    off: "Only a person's own check asks upstream.",
  },
  cleanup_suggestions: {
    name: "Cleanup suggestions",
    on: "Unused models are suggested for removal.",
    off: "Nothing is suggested; a cleanup a person asks for still works.",
  },
} satisfies Record<FeatureName, FeatureText>;

export const FEATURE_NAMES = Object.keys(FEATURES) as FeatureName[];

/** A feature's name for people (the code itself when the dashboard does not know it). */
export function featureName(code: string): string {
  return Object.hasOwn(FEATURES, code) ? FEATURES[code as FeatureName].name : code;
}
