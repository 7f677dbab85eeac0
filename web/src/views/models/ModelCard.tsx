import { useId, useState } from "react";
import { api } from "../../api/endpoints";
import type { CleanupResult, DownloadProgress, ModelPublic, ModelStatus, Priority } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ProgressBar } from "../../components/ProgressBar";
import { Notice } from "../../components/Status";
import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRelative,
  formatTime,
  parseIsoDuration,
  shortVersion,
} from "../../format";
import { useAction } from "../../hooks/useAction";
import { actionsFor, IN_QUEUE, PRIORITIES, type ModelAction } from "./modelActions";
import "./ModelCard.css";

export interface ModelCardProps {
  status: ModelStatus;
  model?: ModelPublic;
  pinned: boolean;
  priority?: Priority;
  progress?: DownloadProgress;
  previousVersion?: string | null;
  /** Something changed on the service: fetch this model's facts again. */
  onChanged: (modelId: string) => void;
}

type Confirm = { kind: "Cancel" } | { kind: "Rollback" } | { kind: "Remove"; plan: CleanupResult };

export function ModelCard({ status, model, pinned, priority, progress, previousVersion, onChanged }: ModelCardProps) {
  const id = status.model_id;
  const headingId = useId();
  const action = useAction();
  const [notice, setNotice] = useState<string>("");
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const actions = actionsFor(status, { pinned, hasPrevious: Boolean(previousVersion) });
  const state = status.availability_status;

  const perform = async (name: string, fn: () => Promise<string | void>) => {
    setNotice("");
    const result = await action.run(name, fn);
    if (typeof result === "string") setNotice(result);
    onChanged(id);
  };

  const onAction = async (name: ModelAction) => {
    switch (name) {
      case "Download":
        return perform(name, async () => {
          await api.download(id);
          return "Download queued.";
        });
      case "Pause":
        return perform(name, async () => {
          const r = await api.pause(id);
          return r.changed ? "Paused." : "Nothing was running.";
        });
      case "Resume":
        return perform(name, async () => {
          const r = await api.resume(id);
          return r.changed ? "Resumed." : "It was already running.";
        });
      case "Verify":
        return perform(name, async () => {
          const r = await api.verify(id);
          return r.is_healthy
            ? `Verified (${r.level}): healthy, ${r.files_checked} files checked.`
            : `Verified (${r.level}): ${r.issues.length} issue(s) found, integrity ${formatPercent(r.integrity_score)}.`;
        });
      case "Repair":
        return perform(name, async () => {
          await api.repair(id);
          return "Repair started: damaged blocks are set aside and fetched again.";
        });
      case "Update":
        return perform(name, async () => {
          const r = await api.update(id);
          return "message" in r ? r.message : "Update started: the current version stays in use until it is ready.";
        });
      case "Pin":
        return perform(name, async () => {
          await api.pin(id);
          return "Pinned: cleanup leaves it alone.";
        });
      case "Unpin":
        return perform(name, async () => {
          await api.unpin(id);
          return "Unpinned.";
        });
      case "Cancel":
      case "Rollback":
        setConfirm({ kind: name });
        return;
      case "Remove": {
        setNotice("");
        const plan = await action.run(name, () => api.remove(id, true));
        if (plan) setConfirm({ kind: "Remove", plan });
        return;
      }
    }
  };

  const onConfirm = async () => {
    const current = confirm;
    setConfirm(null);
    if (!current) return;
    if (current.kind === "Cancel")
      await perform("Cancel", async () => {
        const r = await api.cancel(id);
        return `Download cancelled; ${formatBytes(r.freed_bytes)} freed.`;
      });
    else if (current.kind === "Rollback")
      await perform("Rollback", async () => (await api.rollback(id)).message);
    else
      await perform("Remove", async () => {
        const r = await api.remove(id, false);
        return r.message || `Removed; ${formatBytes(r.freed_bytes)} freed.`;
      });
  };

  const onPriority = (value: Priority) =>
    perform("Priority", async () => {
      await api.setPriority(id, value);
      return `Priority set to ${value}.`;
    });

  const showProgress = IN_QUEUE.includes(state) || state === "updating" || state === "repairing" || state === "verifying";
  const percent = progress?.progress_percent ?? status.download_progress ?? 0;
  const eta = progress?.eta_seconds ?? parseIsoDuration(status.estimated_download_time);
  const title = model?.display_name || id;

  return (
    <article aria-label={`model ${id}`} className={`model-card model-card--${state}`}>
      <header className="model-card__head">
        <div>
          <h2 id={headingId} className="model-card__title">
            {title}
          </h2>
          <p className="model-card__repo">
            {id !== title ? `${id} · ` : ""}
            {status.repo_id}
          </p>
        </div>
        <div className="model-card__badges">
          <span data-testid="state" className={`badge badge--state badge--${state}`}>
            {state}
          </span>
          {status.update_available ? <span className="badge badge--update">Update available</span> : null}
          {pinned ? <span className="badge">Pinned</span> : null}
          {status.is_loaded ? <span className="badge">In use</span> : null}
        </div>
      </header>

      {showProgress ? (
        <div className="model-card__progress">
          <ProgressBar
            modelId={id}
            percent={percent}
            paused={state === "paused"}
            detail={`${formatBytes(progress?.downloaded_bytes ?? status.present_bytes)} of ${formatBytes(
              progress?.total_bytes ?? status.size_bytes,
            )}`}
          />
          <p className="muted small">
            {formatBytes(progress?.downloaded_bytes ?? status.present_bytes)} of{" "}
            {formatBytes(progress?.total_bytes ?? status.size_bytes)}
            {progress?.speed_bytes_per_s ? ` · ${formatBytes(progress.speed_bytes_per_s)}/s` : ""}
            {eta !== null && eta !== undefined && state !== "paused" ? ` · ${formatDuration(eta)} left` : ""}
          </p>
        </div>
      ) : null}

      {status.error_message ? (
        <div className="model-card__problem">
          <p>{status.error_message}</p>
          {status.error_hint ? <p className="muted">{status.error_hint}</p> : null}
        </div>
      ) : null}

      <dl className="facts">
        <dt>Size</dt>
        <dd>
          {formatBytes(status.size_bytes)}
          {status.present_bytes > 0 && status.present_bytes < status.size_bytes
            ? ` (${formatBytes(status.present_bytes)} on disk)`
            : ""}
        </dd>
        <dt>Usable for</dt>
        <dd>{status.usable_for.length ? status.usable_for.join(", ") : "—"}</dd>
        <dt>Local path</dt>
        <dd className="facts__path">{status.local_path ?? (status.present_bytes > 0 ? "not complete yet" : "not on disk yet")}</dd>
        <dt>Version</dt>
        <dd>
          <span title={status.current_version || undefined}>{shortVersion(status.current_version)}</span>
          {status.update_available ? ` → ${shortVersion(status.latest_version)}` : ""}
          {previousVersion ? ` (previous ${shortVersion(previousVersion)})` : ""}
        </dd>
        <dt>Integrity</dt>
        <dd>
          {formatPercent(status.integrity_score)}
          {" · checked "}
          {status.last_health_check ? (
            <time dateTime={status.last_health_check} title={formatTime(status.last_health_check)}>
              {formatRelative(status.last_health_check)}
            </time>
          ) : (
            "never"
          )}
        </dd>
        <dt>Usage</dt>
        <dd>
          {formatNumber(status.usage_frequency, 2)} uses/day · last used {formatRelative(status.last_used)}
          {status.average_generation_time !== null ? ` · ${formatDuration(status.average_generation_time)} per job` : ""}
        </dd>
      </dl>

      {status.missing_files.length > 0 && status.present_bytes > 0 ? (
        <details className="model-card__missing">
          <summary>{status.missing_files.length} missing file(s)</summary>
          <ul>
            {status.missing_files.slice(0, 50).map((f) => (
              <li key={f}>
                <code>{f}</code>
              </li>
            ))}
            {status.missing_files.length > 50 ? <li>… and {status.missing_files.length - 50} more</li> : null}
          </ul>
        </details>
      ) : null}

      <div className="actions model-card__actions">
        {actions.map((name) => (
          <button
            key={name}
            type="button"
            className={name === "Remove" || name === "Cancel" ? "danger-outline" : undefined}
            onClick={() => void onAction(name)}
            disabled={action.busy !== null}
            aria-busy={action.busy === name || undefined}
          >
            {name}
          </button>
        ))}
        {IN_QUEUE.includes(state) ? (
          <PrioritySelect value={priority ?? "normal"} onChange={onPriority} disabled={action.busy !== null} />
        ) : null}
      </div>
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
      <Notice>{notice}</Notice>

      {confirm ? (
        <ConfirmDialog
          title={
            confirm.kind === "Cancel"
              ? `Cancel the download of ${id}?`
              : confirm.kind === "Rollback"
                ? `Roll ${id} back?`
                : `Remove ${id}?`
          }
          onConfirm={() => void onConfirm()}
          onKeep={() => setConfirm(null)}
          confirmDisabled={confirm.kind === "Remove" && confirm.plan.removed.length === 0}
        >
          {confirm.kind === "Cancel" ? (
            <p>
              The download stops and its partial data ({formatBytes(status.present_bytes)}) is deleted; downloading
              again starts from the beginning.
            </p>
          ) : null}
          {confirm.kind === "Rollback" ? (
            <p>
              Version {shortVersion(previousVersion)} is served again instead of {shortVersion(status.current_version)}.
            </p>
          ) : null}
          {confirm.kind === "Remove" ? <RemovePlan plan={confirm.plan} /> : null}
        </ConfirmDialog>
      ) : null}
    </article>
  );
}

function RemovePlan({ plan }: { plan: CleanupResult }) {
  if (plan.removed.length === 0)
    return (
      <p>
        Nothing would be removed. {plan.kept.map((k) => k.reason).join(" ")} {plan.message}
      </p>
    );
  return (
    <>
      <p>
        Its files are deleted from disk, freeing <strong data-testid="freed">{formatBytes(plan.freed_bytes)}</strong>{" "}
        (free space {formatBytes(plan.free_bytes_before)} → {formatBytes(plan.free_bytes_after)}).
      </p>
      {plan.message ? <p className="muted">{plan.message}</p> : null}
    </>
  );
}

function PrioritySelect({
  value,
  onChange,
  disabled,
}: {
  value: Priority;
  onChange: (p: Priority) => void;
  disabled: boolean;
}) {
  const id = useId();
  return (
    <span className="inline-field">
      <label htmlFor={id}>Priority</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as Priority)}>
        {PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
    </span>
  );
}
