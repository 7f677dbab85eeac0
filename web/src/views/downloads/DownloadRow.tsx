import { api, scopeOf } from "../../api/endpoints";
import type { DownloadProgress } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { MetadataFrom } from "../../components/MetadataFrom";
import { ProgressBar } from "../../components/ProgressBar";
import { RateLimitWait } from "../../components/RateLimitWait";
import { formatBytes, formatDuration, formatSpeed } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";
import { label } from "../../labels";

/** One model's download: bar, bytes, speed, time left, retries, files. */
export function DownloadRow({ progress, onChanged }: { progress: DownloadProgress; onChanged: (id: string) => void }) {
  const id = progress.model_id;
  const action = useAction();
  const files = Object.values(progress.files ?? {});
  const verified = files.filter((f) => f.verified).length;
  const run = async (name: "Pause" | "Resume") => {
    await action.run(name, () => (name === "Pause" ? api.pause(id) : api.resume(id)));
    onChanged(id);
  };
  const active = progress.status === "downloading" || progress.status === "verifying";
  const { can } = useScope();
  const canPause = can(scopeOf("pause")) && progress.can_pause && (progress.status === "downloading" || progress.status === "queued");
  const canResume = can(scopeOf("resume")) && progress.can_resume && (progress.status === "paused" || progress.status === "failed");
  return (
    <article aria-label={`download ${id}`} className="download-row">
      <header className="download-row__head">
        <h3>{id}</h3>
        <span className={`badge badge--${progress.status}`}>{label("downloadStatus", progress.status)}</span>
      </header>
      <ProgressBar
        modelId={id}
        percent={progress.progress_percent}
        paused={progress.status === "paused"}
        detail={`${formatBytes(progress.downloaded_bytes)} of ${formatBytes(progress.total_bytes)}`}
      />
      <RateLimitWait waiting={progress.waiting} resumeAt={progress.resume_at} />
      <MetadataFrom from={progress.metadata_from} />
      <dl className="facts facts--inline">
        <dt>Downloaded</dt>
        <dd>
          {formatBytes(progress.downloaded_bytes)} of {formatBytes(progress.total_bytes)}
        </dd>
        <dt>Speed</dt>
        <dd>{active ? formatSpeed(progress.speed_bytes_per_s) : "—"}</dd>
        <dt>Time left</dt>
        <dd>{active && progress.eta_seconds !== null ? formatDuration(progress.eta_seconds) : "—"}</dd>
        <dt>Retries</dt>
        <dd>
          {progress.retry_count} of {progress.max_retries}
        </dd>
        <dt>Files</dt>
        <dd>
          {verified} of {files.length} verified
        </dd>
      </dl>
      {progress.error_message ? (
        <p className="model-card__problem">
          {progress.error_message}
          {progress.error_code ? <span className="muted"> ({progress.error_code})</span> : null}
        </p>
      ) : null}
      {files.length > 0 ? (
        <details>
          <summary>Files</summary>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Done</th>
                  <th scope="col">Size</th>
                  <th scope="col">Verified</th>
                </tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr key={f.path}>
                    <td>
                      <code>{f.path}</code>
                    </td>
                    <td>{formatBytes(f.done_bytes)}</td>
                    <td>{formatBytes(f.total_bytes)}</td>
                    <td>{f.verified ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
      {canPause || canResume ? (
        <div className="actions">
          {canPause ? (
            <button type="button" onClick={() => void run("Pause")} disabled={action.busy !== null}>
              Pause
            </button>
          ) : null}
          {canResume ? (
            <button type="button" onClick={() => void run("Resume")} disabled={action.busy !== null}>
              Resume
            </button>
          ) : null}
        </div>
      ) : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
    </article>
  );
}
