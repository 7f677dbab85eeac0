import { useId, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import type { CleanupIn, CleanupResult } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { formatBytes } from "../../format";
import { useAction } from "../../hooks/useAction";
import { CleanupPlanTable } from "./CleanupPlanTable";

const GB = 1e9;

/** Plan a cleanup (dry run), look at it, then carry it out after a confirmation. */
export function CleanupPanel({ defaultKeepDays = 30, onDone }: { defaultKeepDays?: number; onDone: () => void }) {
  const id = useId();
  const [keepDays, setKeepDays] = useState(String(defaultKeepDays));
  const [targetGb, setTargetGb] = useState("");
  const [plan, setPlan] = useState<CleanupResult | null>(null);
  const [planFor, setPlanFor] = useState<CleanupIn | null>(null);
  const [result, setResult] = useState<CleanupResult | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const action = useAction();

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
    const answer = await action.run("preview", () => api.cleanup(body));
    if (answer) {
      setPlan(answer);
      setPlanFor(body);
    }
  };

  const execute = async () => {
    setConfirming(false);
    if (!planFor) return;
    const answer = await action.run("execute", () => api.cleanup({ ...planFor, dry_run: false }));
    if (answer) {
      setResult(answer);
      setPlan(null);
      setPlanFor(null);
    }
    onDone();
  };

  const canExecute = plan !== null && plan.removed.length > 0 && action.busy === null;

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Cleanup</h2>
      <p className="muted">
        Preview first: nothing is removed until you execute and confirm. Pinned, in-use and downloading models are
        always kept.
      </p>
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
      <ErrorAlert error={invalid ?? action.error} onDismiss={invalid ? undefined : action.clearError} />
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
            freeing {formatBytes(plan.freed_bytes)}. They can be downloaded again later.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
