import { memo, useCallback, useId, useRef } from "react";
import type { DownloadProgress, ModelPublic, ModelStatus, Priority } from "../../api/types";
import { MetadataFrom } from "../../components/MetadataFrom";
import { PathText } from "../../components/PathText";
import { ProgressBar } from "../../components/ProgressBar";
import { RateLimitWait } from "../../components/RateLimitWait";
import { RelativeTime } from "../../components/RelativeTime";
import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatPercent,
  formatSpeed,
  shortVersion,
} from "../../format";
import { humanize, label } from "../../labels";
import { ModelActions } from "./ModelActions";
import { IN_QUEUE, isOnDisk } from "./modelActions";
import { RemovePreviousVersion } from "./RemovePreviousVersion";
import "./ModelCard.css";

export interface ModelCardProps {
  status: ModelStatus;
  model?: ModelPublic;
  pinned: boolean;
  priority?: Priority;
  progress?: DownloadProgress;
  previousVersion?: string | null;
  /** The served version as the versions record says (with previousVersion: whether the
   * previous one can be removed). */
  servedVersion?: string | null;
  /** Something changed on the service: fetch this model's facts again. */
  onChanged: (modelId: string) => void;
  /** The model's kept versions changed: fetch its versions record again. */
  onVersionsChanged?: (modelId: string) => void;
}

/**
 * One model: its state, progress and facts, with its actions (ModelActions). Memoised: a
 * progress event for one model re-renders that model's card only.
 *
 * The card is named `model {id}`. When the heading shows the id, the card is labelled by
 * its heading (with a hidden "model" before it); when it shows a display name, that would
 * change the name, so `aria-label` is kept instead.
 */
export const ModelCard = memo(function ModelCard({
  status,
  model,
  pinned,
  priority,
  progress,
  previousVersion,
  servedVersion,
  onChanged,
  onVersionsChanged,
}: ModelCardProps) {
  const id = status.model_id;
  const headingId = useId();
  const prefixId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const focusHeading = useCallback(() => heading.current?.focus(), []);
  const state = status.availability_status;
  const onPruned = useCallback(
    (modelId: string) => {
      onChanged(modelId);
      onVersionsChanged?.(modelId);
    },
    [onChanged, onVersionsChanged],
  );

  const showProgress = IN_QUEUE.includes(state) || state === "updating" || state === "repairing" || state === "verifying";
  const percent = progress?.progress_percent ?? status.download_progress ?? 0;
  const eta = progress?.eta_seconds ?? status.estimated_download_time;
  const title = model?.display_name || id;
  const labelledByHeading = title === id;

  return (
    <article
      aria-labelledby={labelledByHeading ? `${prefixId} ${headingId}` : undefined}
      aria-label={labelledByHeading ? undefined : `model ${id}`}
      className={`model-card model-card--${state}`}
    >
      <header className="model-card__head">
        <div>
          {labelledByHeading ? (
            <span id={prefixId} hidden>
              model
            </span>
          ) : null}
          <h2 id={headingId} ref={heading} tabIndex={-1} className="model-card__title">
            {title}
          </h2>
          <p className="model-card__repo">
            {id !== title ? `${id} · ` : ""}
            {status.repo_id}
          </p>
        </div>
        <div className="model-card__badges">
          <span data-testid="state" data-state={state} className={`badge badge--state badge--${state}`}>
            {label("availability", state)}
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
            detail={`${formatBytes(progress?.downloaded_bytes ?? status.downloaded_bytes)} of ${formatBytes(
              progress?.total_bytes ?? status.size_bytes,
            )}`}
          />
          <p className="muted small">
            {formatBytes(progress?.downloaded_bytes ?? status.downloaded_bytes)} of{" "}
            {formatBytes(progress?.total_bytes ?? status.size_bytes)}
            {progress?.speed_bytes_per_s ? ` · ${formatSpeed(progress.speed_bytes_per_s)}` : ""}
            {eta !== null && eta !== undefined && state !== "paused" ? ` · ${formatDuration(eta)} left` : ""}
          </p>
          <RateLimitWait
            waiting={progress ? progress.waiting : status.waiting}
            resumeAt={progress ? progress.resume_at : status.resume_at}
          />
          <MetadataFrom from={progress ? progress.metadata_from : status.metadata_from} />
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
        <dd>{status.usable_for.length ? status.usable_for.map(humanize).join(", ") : "—"}</dd>
        <dt>Local path</dt>
        <dd>
          {status.local_path ? (
            <PathText path={status.local_path} name={`local path of ${id}`} />
          ) : status.present_bytes > 0 ? (
            "not complete yet"
          ) : (
            "not on disk yet"
          )}
        </dd>
        <dt>Version</dt>
        <dd>
          <span title={status.current_version || undefined}>{shortVersion(status.current_version)}</span>
          {status.update_available ? ` → ${shortVersion(status.latest_version)}` : ""}
          {previousVersion ? ` (previous ${shortVersion(previousVersion)})` : ""}
        </dd>
        <dt>Integrity</dt>
        <dd data-testid="integrity">
          {isOnDisk(status) ? (
            <Integrity status={status} />
          ) : (
            // Nothing on disk: there is nothing to be intact or to have checked.
            "—"
          )}
        </dd>
        <dt>Usage</dt>
        <dd>
          {formatNumber(status.usage_frequency, 2)} uses/day · last used <RelativeTime value={status.last_used} />
          {status.average_generation_time !== null ? ` · ${formatDuration(status.average_generation_time)} per job` : ""}
        </dd>
      </dl>

      <FileList files={status.damaged_files} what="damaged" />
      {status.present_bytes > 0 ? <FileList files={status.missing_files} what="missing" /> : null}

      <ModelActions
        status={status}
        pinned={pinned}
        priority={priority}
        previousVersion={previousVersion}
        onChanged={onChanged}
        onFocusLost={focusHeading}
      />
      <RemovePreviousVersion
        modelId={id}
        previousVersion={previousVersion}
        servedVersion={servedVersion}
        onChanged={onPruned}
      />
    </article>
  );
});

/** How intact the files are, as far as a check (or a verified download) saw them; nothing
 * checked yet says so rather than showing a score nobody measured. */
function Integrity({ status }: { status: ModelStatus }) {
  const damaged = status.damaged_files.length;
  const missing = status.missing_files.length;
  const problems = [damaged ? `${damaged} damaged` : "", missing ? `${missing} missing` : ""].filter(Boolean);
  return (
    <>
      {status.integrity_score === null ? (
        "not checked"
      ) : (
        <>
          {/* Files another model's pull verified by sha256 (shared blobs) have no check of
              this model's own: say when they were verified rather than "never". */}
          {formatPercent(status.integrity_score)} intact · checked{" "}
          <RelativeTime value={status.last_health_check} never="when its files arrived" />
        </>
      )}
      {problems.length ? <span className="model-card__problems"> · {problems.join(", ")}</span> : null}
    </>
  );
}

const LISTED_FILES = 50;

function FileList({ files, what }: { files: string[]; what: "damaged" | "missing" }) {
  if (files.length === 0) return null;
  return (
    <details className={`model-card__files model-card__files--${what}`}>
      <summary>
        {files.length} {what} file{files.length === 1 ? "" : "s"}
      </summary>
      <ul>
        {files.slice(0, LISTED_FILES).map((f) => (
          <li key={f}>
            <code>{f}</code>
          </li>
        ))}
        {files.length > LISTED_FILES ? <li>… and {files.length - LISTED_FILES} more</li> : null}
      </ul>
    </details>
  );
}
