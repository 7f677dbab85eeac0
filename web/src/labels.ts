// The words a person reads for each value the API sends as a code: states, strategy types,
// quality differences, priorities, issue kinds, actions, automation levels. The one place
// they are written; views call `label(kind, value)` and never show a raw code.
//
// Where the API's schema declares the values (schema.ts unions) the tables are checked
// against it by the compiler (`satisfies Record<...>`) and by labels.test.ts; where it sends
// a plain string, the table follows the service's enum (tests/api/test_settings_and_dashboard.py
// reads this file and checks each of the service's values has a label here).
import type { components } from "./api/schema";

type S = components["schemas"];
type Settings = S["SettingsPublic"];

const availability = {
  missing: "Not downloaded",
  queued: "Queued",
  downloading: "Downloading",
  paused: "Paused",
  verifying: "Verifying",
  available: "Available",
  corrupted: "Damaged",
  repairing: "Repairing",
  updating: "Updating",
  failed: "Failed",
} satisfies Record<S["ModelAvailabilityStatus"], string>;

const downloadStatus = {
  not_started: "Not started",
  queued: "Queued",
  downloading: "Downloading",
  verifying: "Verifying",
  paused: "Paused",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
} satisfies Record<S["DownloadStatus"], string>;

const priority = {
  critical: "Critical",
  high: "High",
  normal: "Normal",
  low: "Low",
} satisfies Record<S["Priority"], string>;

const errorCategory = {
  "model-unavailable": "Model not available",
  "load-failed": "Model failed to load",
  network: "Network problem",
  "partial-download": "Download incomplete",
  "corrupted-download": "Download damaged",
  "storage-full": "Disk full",
  "missing-files": "Files missing",
  "corruption-at-load": "Damaged files found at load",
  "version-mismatch": "Wrong version",
  "vram-insufficient": "Not enough GPU memory",
  "slow-generation": "Slow generation",
  "quality-issues": "Poor output quality",
  "frequent-failures": "Frequent failures",
} satisfies Record<S["ErrorCategory"], string>;

const quality = { low: "Low", medium: "Medium", high: "High" } satisfies Record<
  NonNullable<S["RequirementsIn"]["quality"]>,
  string
>;

const speed = { slow: "Slow is fine", medium: "Medium", fast: "Fast" } satisfies Record<
  NonNullable<S["RequirementsIn"]["speed"]>,
  string
>;

const inputKind = { text: "Text", image: "Image" } satisfies Record<
  NonNullable<S["RequirementsIn"]["inputs"]>[number],
  string
>;

const automation = {
  off: "Off: report only",
  ask: "Ask: propose what to run",
  auto: "Auto: repair and download on its own",
} satisfies Record<Settings["automation"], string>;

const verifyLevel = {
  quick: "Quick: sizes and headers",
  structural: "Structural: file structure",
  scrub: "Scrub: a rotating sample of blocks",
  full: "Full: hash every file",
} satisfies Record<Settings["health_check_level"], string>;

const updatePolicy = {
  notify: "Notify: say an update exists",
  ask: "Ask: propose to apply it",
  auto: "Auto: apply it",
} satisfies Record<Settings["update_policy"], string>;

const adoptMode = {
  link: "Hard link: the folder keeps its files",
  move: "Move into the store",
} satisfies Record<S["AdoptIn"]["mode"] & string, string>;

// The API sends these as plain strings; the values are the service's enums (named beside).

/** FallbackType */
const strategyType = {
  use_requested: "Run it on the requested model",
  alternative_model: "Use another model",
  queue_and_wait: "Queue the job and wait",
  download_and_retry: "Download, then run the job",
  mock_generation: "Mock output (not real)",
  reduce_requirements: "Ask less of the model",
  no_model: "No model can run it (mock fallback off)",
};

/** Whether a model takes a job: RequestedFitPublic.fits (true, false, null), and
 * NotOfferedPublic.capabilities_known false ("unknown"). */
const fit = {
  yes: "Takes this job",
  no: "Cannot take this job",
  unknown: "Capabilities unknown",
};

/** QualityDifference */
const qualityDifference = {
  similar: "Similar quality",
  slightly_lower: "Slightly lower quality",
  significantly_lower: "Much lower quality",
};

/** HealthCondition */
const healthCondition = {
  healthy: "Healthy",
  degraded: "Degraded",
  corrupted: "Damaged",
  incomplete: "Incomplete",
  absent: "Not downloaded",
};

/** Severity */
const severity = { info: "Info", warning: "Warning", critical: "Critical" };

/** IssueKind */
const issueKind = {
  missing: "missing from disk",
  modified: "modified since it was verified",
  truncated: "cut short",
  "size-mismatch": "wrong size",
  "checksum-mismatch": "damaged (checksum differs)",
  "bad-header": "damaged header",
  "error-page": "an error page instead of the file",
  "incomplete-shard-set": "shards missing",
  "unexpected-file": "not part of the model",
};

/** PerformanceStatus */
const performanceStatus = { learning: "Learning its baseline", healthy: "Normal", degraded: "Slower than usual" };

/** RequestState */
const requestState = { queued: "Waiting", released: "Released", expired: "Expired", cancelled: "Cancelled" };

/** UpdateState */
const updateState = {
  current: "Up to date",
  applying: "Applying",
  applied: "Applied",
  settled: "Settled",
  "rolled-back": "Rolled back",
};

/** AdoptOutcome */
const adoptOutcome = {
  adopted: "Adopted",
  "already-present": "Already in the store",
  missing: "Not in the folder",
  "size-mismatch": "Wrong size",
  "checksum-mismatch": "Checksum differs",
};

/** Action (modelward/actions.py): what health, updates and availability propose. */
const action = {
  download: "Download",
  repair: "Repair",
  verify: "Verify",
  "verify-full": "Verify every byte",
  resume: "Resume",
  cancel: "Cancel the download",
  update: "Update",
  rollback: "Roll back",
  prune: "Remove the previous version",
  remove: "Remove",
  cleanup: "Clean up",
  "list-quarantine": "Review the quarantine",
  "purge-quarantine": "Empty the quarantine",
  "remove-stray-files": "Remove files that are not part of the model",
  demo: "Run the offline demo (CLI)",
};

/** RecoveryAction */
const recoveryAction = {
  "retry-with-backoff": "Retry after a pause",
  "resume-download": "Resume the download",
  "redownload-verified": "Download again and verify",
  "suggest-cleanup": "Free disk space",
  "targeted-redownload": "Fetch the damaged files again",
  repair: "Repair",
  "offer-version-change": "Switch version",
  "reduce-or-alternative": "Ask less or use another model",
  "health-check": "Check health",
  "verify-integrity": "Verify the files",
  "recommend-replacement": "Replace the model",
  "use-alternative": "Use another model",
  "queue-for-download": "Queue a download",
  "manual-steps": "Follow the manual steps",
  "setup-instructions": "Set it up",
  "nothing-to-do": "Nothing to do",
};

const auditOutcome = {
  ok: "Done",
  refused: "Refused",
  failed: "Failed",
} satisfies Record<S["AuditEntryPublic"]["outcome"], string>;

const tokenScope = {
  read: "Read",
  operate: "Operate",
  admin: "Admin",
} satisfies Record<NonNullable<S["WhoamiPublic"]["scope"]>, string>;

const fleetAction = {
  pull: "Pull",
  update: "Update",
  verify: "Verify",
  remove: "Remove",
} satisfies Record<S["FleetActionIn"]["action"], string>;

const fleetPart = {
  pending: "Pending",
  running: "Running",
  completed: "Done",
  failed: "Failed",
} satisfies Record<S["FleetActionResultPublic"]["state"], string>;

export const LABELS = {
  availability,
  downloadStatus,
  priority,
  errorCategory,
  quality,
  speed,
  inputKind,
  automation,
  verifyLevel,
  updatePolicy,
  adoptMode,
  strategyType,
  fit,
  qualityDifference,
  healthCondition,
  severity,
  issueKind,
  performanceStatus,
  requestState,
  updateState,
  adoptOutcome,
  action,
  recoveryAction,
  auditOutcome,
  tokenScope,
  fleetAction,
  fleetPart,
} as const;

export type LabelKind = keyof typeof LABELS;

/** The words for `value`; a code no table knows yet is written as words, never as a code. */
export function label(kind: LabelKind, value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const table: Readonly<Record<string, string>> = LABELS[kind];
  return Object.hasOwn(table, value) ? table[value] : humanize(value);
}

/** `slightly_lower` → `Slightly lower`. */
export function humanize(code: string): string {
  const words = code.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A short label without the explanation after the colon ("Ask: propose…" → "Ask"). */
export function shortLabel(kind: LabelKind, value: string | null | undefined): string {
  return label(kind, value).split(":")[0];
}
