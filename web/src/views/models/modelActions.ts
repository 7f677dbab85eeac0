import type { Scope } from "../../api/access";
import { scopeOf, type Guarded } from "../../api/endpoints";
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

/** The call each action makes (its scope, from the one table in endpoints.ts). */
const CALL_OF: Record<ModelAction, Guarded> = {
  Download: "download",
  Pause: "pause",
  Resume: "resume",
  Cancel: "cancel",
  Verify: "verify",
  Repair: "repair",
  Update: "update",
  Rollback: "rollback",
  Pin: "pin",
  Unpin: "unpin",
  Remove: "remove",
};

/** The token scope each action needs (the service's x-modelward-scope of its route). */
export const SCOPE_OF = Object.fromEntries(
  Object.entries(CALL_OF).map(([action, call]) => [action, scopeOf(call)]),
) as Record<ModelAction, Scope>;

/** States in which a download job exists (queued, moving or stopped part-way). */
export const IN_QUEUE: readonly AvailabilityState[] = ["queued", "downloading", "paused"];
/** States in which something is working on the model's files right now. */
const BUSY: readonly AvailabilityState[] = ["queued", "downloading", "verifying", "repairing", "updating"];
/** States in which a transfer may be running (the service says whether it can pause). */
const PAUSABLE: readonly AvailabilityState[] = ["queued", "downloading", "updating"];
/** States in which a stopped transfer may go on (the service says whether it can resume). */
const RESUMABLE: readonly AvailabilityState[] = ["paused", "failed"];

export interface ActionFacts {
  pinned: boolean;
  /** A previous version is kept, so a rollback is possible. */
  hasPrevious: boolean;
}

/** Whether the model has bytes on disk (complete or not). */
export function isOnDisk(status: ModelStatus): boolean {
  return status.present_bytes > 0 || status.is_available;
}

/**
 * The actions that make sense for a model in its current state, in display order. Pause
 * and Resume follow the service's `can_pause_download` / `can_resume_download` (checked
 * against the state, which an event may have changed before the flags are fetched again).
 * A pinned model offers Unpin, never Remove: cleanup and removal leave pinned models alone.
 */
export function actionsFor(status: ModelStatus, facts: ActionFacts): ModelAction[] {
  const state = status.availability_status;
  const onDisk = isOnDisk(status);
  const actions: ModelAction[] = [];
  if (state === "missing") actions.push("Download");
  if (status.can_pause_download && PAUSABLE.includes(state)) actions.push("Pause");
  if (status.can_resume_download && RESUMABLE.includes(state)) actions.push("Resume");
  if (state === "queued" || state === "downloading" || state === "paused" || state === "failed") actions.push("Cancel");
  if (state === "available" || state === "corrupted") actions.push("Verify");
  if (state === "corrupted") actions.push("Repair");
  if (state === "available" && status.update_available) actions.push("Update");
  if (state === "available" && facts.hasPrevious) actions.push("Rollback");
  if (facts.pinned) actions.push("Unpin");
  else if (onDisk) actions.push("Pin");
  if (onDisk && !BUSY.includes(state) && !facts.pinned) actions.push("Remove");
  return actions;
}

/** Whether Remove is held back only because the model is pinned (the card says so). */
export function removeBlockedByPin(status: ModelStatus, facts: ActionFacts): boolean {
  return facts.pinned && isOnDisk(status) && !BUSY.includes(status.availability_status);
}

export const PRIORITIES = ["critical", "high", "normal", "low"] as const;
