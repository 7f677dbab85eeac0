import type { AvailabilityState, ModelStatus } from "../../api/types";

export type ModelAction =
  | "Download"
  | "Pause"
  | "Resume"
  | "Cancel"
  | "Verify"
  | "Repair"
  | "Update"
  | "Rollback"
  | "Pin"
  | "Unpin"
  | "Remove";

/** States in which a download job exists (queued, moving or stopped part-way). */
export const IN_QUEUE: readonly AvailabilityState[] = ["queued", "downloading", "paused"];
/** States in which something is working on the model's files right now. */
const BUSY: readonly AvailabilityState[] = ["queued", "downloading", "verifying", "repairing", "updating"];

export interface ActionFacts {
  pinned: boolean;
  /** A previous version is kept, so a rollback is possible. */
  hasPrevious: boolean;
}

/** The actions that make sense for a model in its current state, in display order. */
export function actionsFor(status: ModelStatus, facts: ActionFacts): ModelAction[] {
  const state = status.availability_status;
  const onDisk = status.present_bytes > 0 || status.is_available;
  const actions: ModelAction[] = [];
  if (state === "missing") actions.push("Download");
  if (state === "downloading" || (state === "updating" && status.can_pause_download)) actions.push("Pause");
  if (state === "paused" || state === "failed") actions.push("Resume");
  if (state === "queued" || state === "downloading" || state === "paused" || state === "failed") actions.push("Cancel");
  if (state === "available" || state === "corrupted") actions.push("Verify");
  if (state === "corrupted") actions.push("Repair");
  if (state === "available" && status.update_available) actions.push("Update");
  if (state === "available" && facts.hasPrevious) actions.push("Rollback");
  if (facts.pinned) actions.push("Unpin");
  else if (onDisk) actions.push("Pin");
  if (onDisk && !BUSY.includes(state)) actions.push("Remove");
  return actions;
}

export const PRIORITIES = ["critical", "high", "normal", "low"] as const;
