import { useId, useState, type FormEvent } from "react";
import { api, scopeOf } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import type { CleanupIn, CleanupResult, ServerEvent } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { Notice, Warning } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { formatBytes } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { CleanupPlanTable } from "./CleanupPlanTable";

const GB = 1e9;

/** Events after which a preview may no longer be what a cleanup would do. */
export const PLAN_EVENTS = ["model.removed", "model.pinned", "download.state", "storage.low"];

function whatChanged(event: ServerEvent): string {
  const who = event.model_id ?? "a model";
  switch (event.type) {
    case "model.removed":
      return `${who} was removed`;
    case "model.pinned":
      return event.data.pinned === false ? `${who} was unpinned` : `${who} was pinned`;
    case "download.state":
      return `the download of ${who} changed`;
    case "storage.low":
      return "free space ran low";
    default:
      return "the live connection was lost, so changes may have been missed";
  }
}

const names = (plan: CleanupResult) =>
  plan.removed
    .map((c) => c.model_id)
    .sort()
    .join(", ") || "nothing";

/**
 * Plan a cleanup (dry run), look at it, then carry out exactly that plan after a
 * confirmation: the execution keeps every catalog model the preview did not remove, so
 * nothing else can go. A change that may make the preview stale clears it.
 */
export function CleanupPanel({ defaultKeepDays = 30, onDone }: { defaultKeepDays?: number; onDone: () => void }) {
  const id = useId();
  const catalog = useResource(() => api.models(), []);
  const [keepDays, setKeepDays] = useState(String(defaultKeepDays));
  const [targetGb, setTargetGb] = useState("");
  const [plan, setPlan] = useState<CleanupResult | null>(null);
  const [planFor, setPlanFor] = useState<CleanupIn | null>(null);
  const [result, setResult] = useState<CleanupResult | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const [stale, setStale] = useState("");
  const [mismatch, setMismatch] = useState("");
  const action = useAction();
  // The preview is a dry run of the same admin call, so neither is offered without admin.
  const canClean = useScope().can(scopeOf("cleanup"));

  const clearPlan = () => {
    setPlan(null);
    setPlanFor(null);
    setConfirming(false);
  };

  useServerEvents(PLAN_EVENTS, (event) => {
    if (event.type === RESYNC) void catalog.reload();
    if (!plan || action.busy === "execute") return;
    clearPlan();
    setStale(`The preview was cleared because ${whatChanged(event)} since it was made. Preview again before executing.`);
  });

  const request = (): CleanupIn | null => {
    const days = Number(keepDays);
    const target = targetGb.trim() === "" ? null : Number(targetGb);
    if (keepDays.trim() === "" || !Number.isFinite(days) || days < 0 || (target !== null && (!Number.isFinite(target) || target < 0))) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-input",
          message: "Days and target free space must be numbers, 0 or more.",
          hint: "Leave the target empty to remove only unused models.",
          retryable: false,
        }),
      );
      return null;
    }
    setInvalid(null);
    return { keep_recent_days: days, target_free_bytes: target === null ? null : Math.round(target * GB), dry_run: true };
  };

  const preview = async (event: FormEvent) => {
    event.preventDefault();
    const body = request();
    if (!body) return;
    setResult(null);
    setStale("");
    setMismatch("");
    const answer = await action.run("preview", () => api.cleanup(body));
    if (answer) {
      setPlan(answer);
      setPlanFor(body);
    }
  };

  const execute = async () => {
    setConfirming(false);
    if (!plan || !planFor || !catalog.data) return;
    const previewed = plan;
    const removing = new Set(previewed.removed.map((c) => c.model_id));
    const body: CleanupIn = {
      keep: catalog.data.data.map((m) => m.id).filter((m) => !removing.has(m)),
      keep_recent_days: planFor.keep_recent_days,
      target_free_bytes: null,
      dry_run: false,
    };
    const answer = await action.run("execute", () => api.cleanup(body));
    if (answer) {
      setResult(answer);
      clearPlan();
      const done = new Set(answer.removed.map((c) => c.model_id));
      const same = done.size === removing.size && [...done].every((m) => removing.has(m));
      setMismatch(
        same
          ? ""
          : `The cleanup did not match the preview: it removed ${names(answer)}, the preview listed ${names(previewed)}. ` +
              "Something changed in between; check the table below.",
      );
    }
    onDone();
  };

  const canExecute = plan !== null && plan.removed.length > 0 && action.busy === null && catalog.data !== undefined;

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Cleanup</h2>
      <p className="muted">
        Preview first: nothing is removed until you execute and confirm, and then only the previewed models. Pinned,
        in-use and downloading models are always kept.
      </p>
      <ScopeNote what="Previewing and executing a cleanup" need={scopeOf("cleanup")} />
      {canClean ? (
        <form className="inline-form" onSubmit={preview} noValidate>
          <div className="field">
            <label htmlFor={`${id}-days`}>Keep models used within (days)</label>
            <input
              id={`${id}-days`}
              type="number"
              min={0}
              step="any"
              value={keepDays}
              onChange={(e) => {
                setKeepDays(e.target.value);
                setPlan(null);
              }}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-target`}>Target free space (GB)</label>
            <input
              id={`${id}-target`}
              type="number"
              min={0}
              step="any"
              value={targetGb}
              placeholder="optional"
              aria-describedby={`${id}-target-help`}
              onChange={(e) => {
                setTargetGb(e.target.value);
                setPlan(null);
              }}
            />
            <p id={`${id}-target-help`} className="field__help">
              Empty: remove only unused models. Otherwise the least valuable go until this much is free.
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={action.busy !== null}>
              Preview cleanup
            </button>
            <button type="button" className="danger" disabled={!canExecute} onClick={() => setConfirming(true)}>
              Execute cleanup
            </button>
          </div>
        </form>
      ) : null}
      <ErrorAlert error={invalid ?? action.error} onDismiss={invalid ? undefined : action.clearError} />
      {catalog.error ? <ErrorAlert error={catalog.error} /> : null}
      <Warning>{stale}</Warning>
      {plan ? (
        <div className="cleanup-plan">
          <p>
            {plan.message}
            <br />
            <span className="muted">
              Frees <strong>{formatBytes(plan.freed_bytes)}</strong>: free space {formatBytes(plan.free_bytes_before)} →{" "}
              {formatBytes(plan.free_bytes_after)}.
            </span>
          </p>
          <CleanupPlanTable plan={plan} />
          {plan.removed.length === 0 ? <p className="muted">Nothing to remove with these settings.</p> : null}
        </div>
      ) : null}
      <Warning>{mismatch}</Warning>
      {result ? (
        <>
          <Notice>
            {result.message || `Cleanup done: ${result.removed.length} model(s) removed, ${formatBytes(result.freed_bytes)} freed.`}
          </Notice>
          <CleanupPlanTable plan={result} />
        </>
      ) : null}
      {confirming && plan ? (
        <ConfirmDialog title="Execute the cleanup?" onConfirm={() => void execute()} onKeep={() => setConfirming(false)}>
          <p>
            {plan.removed.length} model(s) are removed from disk ({plan.removed.map((c) => c.model_id).join(", ")}),
            freeing {formatBytes(plan.freed_bytes)}. Every other model is kept. They can be downloaded again later.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
