// One typed function per route the dashboard uses.
import type { Scope } from "./access";
import { http } from "./client";
import type {
  AdoptIn,
  Advice,
  AdoptReport,
  Bandwidth,
  CancelResult,
  CleanupIn,
  CleanupResult,
  DownloadAccepted,
  DownloadControl,
  DownloadProgress,
  Fleet,
  FleetAction,
  FleetActionIn,
  FleetActions,
  HealthReport,
  Integrity,
  JobRequirements,
  ModelStatus,
  ModelStatuses,
  ModelsPublic,
  OperationsReport,
  PinResult,
  Priority,
  PriorityResult,
  PruneResult,
  PurgeResult,
  QuarantineEntry,
  Queue,
  QueueOrder,
  QueuedRequest,
  RepairResult,
  Settings,
  SettingsPatch,
  Storage,
  UpdateApplyResult,
  UpdateRecord,
  UpdateResult,
  UsageReport,
  Wait,
} from "./types";

const m = (id: string) => `/models/${encodeURIComponent(id)}`;

/**
 * Every call (here and in access.ts) that needs more than a `read` token: its route as the OpenAPI document
 * writes it and the scope the service asks for (the route's `x-modelward-scope`).
 * `endpoints.test.ts` checks each call against this table and the table against
 * web/openapi.json, so the controls hidden by scope cannot drift from the service.
 */
export const NEEDS = {
  download: { route: "POST /models/{model_id}/download", scope: "operate" },
  pause: { route: "POST /models/{model_id}/pause", scope: "operate" },
  resume: { route: "POST /models/{model_id}/resume", scope: "operate" },
  cancel: { route: "POST /models/{model_id}/cancel", scope: "operate" },
  setPriority: { route: "PUT /models/{model_id}/priority", scope: "operate" },
  moveInQueue: { route: "POST /queue/{model_id}/move", scope: "operate" },
  setBandwidth: { route: "PUT /bandwidth", scope: "admin" },
  verify: { route: "POST /models/{model_id}/verify", scope: "operate" },
  repair: { route: "POST /models/{model_id}/repair", scope: "operate" },
  purgeQuarantine: { route: "DELETE /quarantine", scope: "admin" },
  update: { route: "POST /models/{model_id}/update", scope: "admin" },
  rollback: { route: "POST /models/{model_id}/rollback", scope: "admin" },
  prunePrevious: { route: "DELETE /models/{model_id}/versions/previous", scope: "admin" },
  pin: { route: "PUT /models/{model_id}/pin", scope: "operate" },
  unpin: { route: "DELETE /models/{model_id}/pin", scope: "operate" },
  remove: { route: "DELETE /models/{model_id}", scope: "admin" },
  cleanup: { route: "POST /cleanup", scope: "admin" },
  adopt: { route: "POST /models/{model_id}/adopt", scope: "admin" },
  cancelRequest: { route: "DELETE /requests/{request_id}", scope: "operate" },
  patchSettings: { route: "PATCH /settings", scope: "admin" },
  audit: { route: "GET /audit", scope: "admin" },
  askFleet: { route: "POST /fleet/actions", scope: "operate" },
} as const satisfies Record<string, { route: string; scope: Scope }>;

export type Guarded = keyof typeof NEEDS;

/** The token scope the call `name` needs. */
export function scopeOf(name: Guarded): Scope {
  return NEEDS[name].scope;
}

function jobQuery(req: JobRequirements) {
  return {
    inputs: req.inputs,
    quality: req.quality,
    speed: req.speed,
    vram_gb: req.vram_gb,
    resolution: req.resolution,
  };
}

export const api = {
  // catalog and state
  models: () => http.get<ModelsPublic>("/models"),
  statuses: () => http.get<ModelStatuses>("/models/status"),
  status: (id: string) => http.get<ModelStatus>(`${m(id)}/status`),

  // downloads
  progress: (id: string) => http.get<DownloadProgress>(`${m(id)}/download`),
  download: (id: string) => http.post<DownloadAccepted>(`${m(id)}/download`),
  pause: (id: string) => http.post<DownloadControl>(`${m(id)}/pause`),
  resume: (id: string) => http.post<DownloadControl>(`${m(id)}/resume`),
  cancel: (id: string) => http.post<CancelResult>(`${m(id)}/cancel`),
  setPriority: (id: string, priority: Priority) => http.put<PriorityResult>(`${m(id)}/priority`, { priority }),
  queue: () => http.get<Queue>("/queue"),
  moveInQueue: (id: string, position: number) =>
    http.post<QueueOrder>(`/queue/${encodeURIComponent(id)}/move`, { position }),
  bandwidth: () => http.get<Bandwidth>("/bandwidth"),
  setBandwidth: (limit_bytes_per_s: number) => http.put<Bandwidth>("/bandwidth", { limit_bytes_per_s }),

  // health
  verify: (id: string) => http.post<Integrity>(`${m(id)}/verify`),
  repair: (id: string) => http.post<RepairResult>(`${m(id)}/repair`, undefined, { wait: false }),
  health: () => http.get<HealthReport>("/health"),
  quarantine: () => http.get<QuarantineEntry[]>("/quarantine"),
  purgeQuarantine: (force: boolean) => http.del<PurgeResult>("/quarantine", { force }),

  // versions
  update: (id: string) => http.post<UpdateApplyResult>(`${m(id)}/update`, undefined, { wait: false }),
  rollback: (id: string) => http.post<UpdateResult>(`${m(id)}/rollback`),
  versions: (id: string) => http.get<UpdateRecord>(`${m(id)}/versions`),
  prunePrevious: (id: string) => http.del<PruneResult>(`${m(id)}/versions/previous`),

  // storage
  pin: (id: string) => http.put<PinResult>(`${m(id)}/pin`),
  unpin: (id: string) => http.del<PinResult>(`${m(id)}/pin`),
  remove: (id: string, dryRun: boolean) => http.del<CleanupResult>(m(id), { dry_run: dryRun }),
  storage: () => http.get<Storage>("/storage"),
  cleanup: (body: CleanupIn) => http.post<CleanupResult>("/cleanup", body),
  adopt: (id: string, body: AdoptIn) => http.post<AdoptReport>(`${m(id)}/adopt`, body),

  // analytics
  analytics: (days: number) => http.get<UsageReport>("/analytics", { days }),
  /** Download success and retries per model, checks per day, fallback usage. */
  operations: (days: number) => http.get<OperationsReport>("/analytics/operations", { days }),

  // requests and fallbacks
  requests: () => http.get<QueuedRequest[]>("/requests"),
  cancelRequest: (id: string) => http.del<QueuedRequest>(`/requests/${encodeURIComponent(id)}`),
  wait: (id: string) => http.get<Wait>(`${m(id)}/wait`),
  /** The whole answer for a job: the requested model's fit, what to do now, every
   * alternative with its reasons, and every model left out with why. */
  advice: (id: string, req: JobRequirements) => http.get<Advice>(`${m(id)}/advice`, jobQuery(req)),

  // the fleet: every node through the shared database
  fleet: () => http.get<Fleet>("/fleet"),
  fleetActions: (limit: number) => http.get<FleetActions>("/fleet/actions", { limit }),
  /** Update and remove need admin, as on one node (FLEET_ACTION_NEEDS). */
  askFleet: (body: FleetActionIn) => http.post<FleetAction>("/fleet/actions", body),

  // settings
  settings: () => http.get<Settings>("/settings"),
  patchSettings: (patch: SettingsPatch) => http.patch<Settings>("/settings", patch),
};
