// The one place for the API's JSON types: aliases of the generated schema (schema.ts,
// `npm run gen:api` from openapi.json) plus the event stream's frames (SSE is not described by OpenAPI).
import type { components } from "./schema";

type S = components["schemas"];

export type ModelPublic = S["ModelPublic"];
export type ModelsPublic = S["ModelsPublic"];
export type ModelStatus = S["ModelStatusPublic"];
export type ModelStatuses = S["ModelStatusesPublic"];
export type AvailabilityState = S["ModelAvailabilityStatus"];
export type DownloadProgress = S["DownloadProgressPublic"];
export type DownloadStatus = S["DownloadStatus"];
export type DownloadAccepted = S["DownloadAccepted"];
export type DownloadControl = S["DownloadControlPublic"];
export type CancelResult = S["CancelPublic"];
export type Priority = S["Priority"];
export type PriorityResult = S["PriorityPublic"];
export type Integrity = S["IntegrityPublic"];
export type RepairResult = S["RepairPublic"] | S["RepairAccepted"];
export type UpdateApplyResult = S["UpdateResultPublic"] | S["UpdateAccepted"];
export type UpdateResult = S["UpdateResultPublic"];
export type UpdateRecord = S["UpdateRecordPublic"];
export type PinResult = S["PinPublic"];
export type PruneResult = S["PrunePublic"];
export type AdoptIn = S["AdoptIn"];
export type AdoptMode = NonNullable<AdoptIn["mode"]>;
export type AdoptReport = S["AdoptReportPublic"];
export type AdoptedFile = S["AdoptedFilePublic"];
export type CleanupResult = S["CleanupPublic"];
export type CleanupCandidate = S["CleanupCandidatePublic"];
export type CleanupIn = S["CleanupIn"];
export type Queue = S["QueuePublic"];
export type QueueEntry = S["QueueEntryPublic"];
export type QueueOrder = S["QueueOrderPublic"];
export type Bandwidth = S["BandwidthPublic"];
export type HealthReport = S["SystemHealthReportPublic"];
export type ModelHealth = S["ModelHealthPublic"];
export type HealthRecommendation = S["HealthRecommendationPublic"];
export type QuarantineEntry = S["QuarantineEntryPublic"];
export type PurgeResult = S["PurgePublic"];
export type UsageReport = S["UsageReportPublic"];
export type UsageStatistics = S["UsageStatisticsPublic"];
export type DailyUsage = S["DailyUsagePublic"];
export type OperationsReport = S["OperationsReportPublic"];
export type DownloadFigures = S["DownloadFiguresPublic"];
export type PerformanceFinding = S["PerformanceFindingPublic"];
export type Storage = S["StoragePublic"];
export type ModelSpace = S["ModelSpacePublic"];
export type QueuedRequest = S["QueuedRequestPublic"];
export type Wait = S["WaitPublic"];
export type Strategy = S["StrategyPublic"];
export type Suggestion = S["SuggestionPublic"];
export type Advice = S["AdvicePublic"];
export type NotOffered = S["NotOfferedPublic"];
export type Step = S["StepPublic"];
export type ErrorBody = S["ErrorPublic"];
export type Fleet = S["FleetPublic"];
export type FleetNode = S["NodePublic"];
export type FleetNodeModel = S["NodeModelPublic"];
export type FleetModel = S["FleetModelPublic"];
export type FleetCell = S["FleetCellPublic"];
export type FleetActionIn = S["FleetActionIn"];
export type FleetActionKind = FleetActionIn["action"];
export type FleetAction = S["FleetActionPublic"];
export type FleetActions = S["FleetActionsPublic"];
export type FleetResult = S["FleetActionResultPublic"];
export type Quality = NonNullable<S["RequirementsIn"]["quality"]>;
export type Speed = NonNullable<S["RequirementsIn"]["speed"]>;
export type InputKind = "text" | "image";

/** What a job needs, as the strategy and alternative routes take it in their query. */
export interface JobRequirements {
  inputs: InputKind[];
  quality: Quality;
  speed: Speed;
  vram_gb: number | null;
  resolution: string | null;
}

// GET/PATCH /api/v1/settings.
export type Settings = S["SettingsPublic"];
/** Each enhancement on (true) or off (the plain base behaviour). */
export type Features = Settings["features"];
export type FeatureName = keyof Features;
export type EditableSettings = Omit<Settings, "read_only" | "features">;
export type SettingsPatch = Partial<EditableSettings> & { features?: Partial<Features> };
export type Automation = Settings["automation"];
export type HealthLevel = Settings["health_check_level"];
export type UpdatePolicy = Settings["update_policy"];

/** One frame of GET /api/v1/events. */
export interface ServerEvent<D = Record<string, unknown>> {
  type: string;
  model_id: string | null;
  at: number;
  data: D;
}
