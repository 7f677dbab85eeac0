import { api } from "../../api/endpoints";
import type { HealthReport, ModelHealth } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RelativeTime } from "../../components/RelativeTime";
import { formatBytes, formatPercent, formatTime } from "../../format";
import { useDebouncedCallback } from "../../hooks/useDebouncedCallback";
import { useResource } from "../../hooks/useResource";
import { label, LABELS, shortLabel } from "../../labels";
import { FeaturesOffNotice } from "../settings/FeaturesOffNotice";
import { Quarantine } from "./Quarantine";
import "./HealthView.css";

const HEALTH_EVENTS = [
  "health.checked",
  "health.performance",
  "health.proposed",
  "repair.started",
  "repair.finished",
  "model.state",
  "model.removed",
  "storage.low",
  "download.state",
];

export function HealthView() {
  const report = useResource(() => api.health(), []);
  const reload = useDebouncedCallback(() => void report.reload(), 500);
  useServerEvents(HEALTH_EVENTS, reload);
  return (
    <section aria-labelledby="health-title">
      <h1 id="health-title">Health</h1>
      <ErrorAlert error={report.error} />
      {report.loading && !report.data ? <Loading what="the health report" /> : null}
      {report.data ? <Report report={report.data} /> : null}
      <Quarantine />
    </section>
  );
}

function Report({ report }: { report: HealthReport }) {
  const score = report.overall_health_score;
  const tone = score >= 0.95 ? "good" : score >= 0.7 ? "warn" : "bad";
  return (
    <>
      <div className="summary-grid">
        <div className={`stat stat--${tone}`}>
          <span className="stat__label">Overall health</span>
          <span className="stat__value" data-testid="health-score" data-score={score}>
            {formatPercent(score)}
          </span>
        </div>
        <Stat label="Healthy" value={report.models_healthy} />
        <Stat label="Degraded" value={report.models_degraded} />
        <Stat label="Damaged" value={report.models_corrupted} />
        <Stat label="Incomplete" value={report.models_incomplete} />
        <Stat label="Not downloaded" value={report.models_absent} />
        <Stat label="Disk used" value={`${report.storage_usage_percent.toFixed(1)}%`} />
        <Stat label="Free" value={formatBytes(report.storage_free_bytes)} />
        <Stat label="Quarantined" value={formatBytes(report.quarantine_bytes)} />
      </div>
      <p className="muted">
        Report of {formatTime(report.last_updated)} · automation{" "}
        <strong title={label("automation", report.automation ?? "ask")}>{shortLabel("automation", report.automation ?? "ask")}</strong>
        {report.next_scheduled_check ? (
          <>
            {" · next check "}
            <RelativeTime value={report.next_scheduled_check} />
          </>
        ) : null}
      </p>
      <FeaturesOffNotice off={report.features_off} />

      <section aria-labelledby="recs-title" className="panel">
        <h2 id="recs-title">Recommendations</h2>
        {report.recommendations.length === 0 ? (
          <EmptyState>Nothing to do: every model is in order.</EmptyState>
        ) : (
          <ul className="recommendations">
            {report.recommendations.map((r, i) => (
              <li key={i} className={`recommendation recommendation--${r.severity}`}>
                <span className={`badge badge--${r.severity}`}>{label("severity", r.severity)}</span>
                <div>
                  <p className="recommendation__message">{r.message}</p>
                  <p className="recommendation__action">
                    <span className="muted">Action:</span> <ActionText action={r.action} />
                    {r.route ? (
                      <>
                        {" "}
                        <span className="muted">· API:</span> <code>{r.route}</code>
                      </>
                    ) : null}
                  </p>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="conditions-title" className="panel">
        <h2 id="conditions-title">Models</h2>
        {report.models.length === 0 ? (
          <EmptyState>No models in the catalog yet.</EmptyState>
        ) : (
          <div className="table-scroll">
            <table aria-labelledby="conditions-title">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Condition</th>
                  <th scope="col">Integrity</th>
                  <th scope="col">Issues</th>
                  <th scope="col">Last check</th>
                  <th scope="col">Performance</th>
                </tr>
              </thead>
              <tbody>
                {report.models.map((m) => (
                  <tr key={m.model_id}>
                    <th scope="row">{m.model_id}</th>
                    <td>
                      <span className={`badge badge--${m.condition}`}>{label("healthCondition", m.condition)}</span>
                      {m.repairing ? " repairing" : ""}
                      {m.downloading ? " downloading" : ""}
                    </td>
                    <td>{m.integrity_score === null ? "not checked" : formatPercent(m.integrity_score)}</td>
                    <td>
                      <Issues issues={m.issues} />
                    </td>
                    <td>
                      <RelativeTime value={m.last_health_check} />
                      {m.last_check_level ? ` (${shortLabel("verifyLevel", m.last_check_level).toLowerCase()})` : ""}
                    </td>
                    <td>
                      {label("performanceStatus", m.performance_status)} ({formatPercent(m.performance_score)})
                      {m.performance_reasons.length ? (
                        <ul className="plain-list">
                          {m.performance_reasons.map((r, i) => (
                            <li key={i}>{r}</li>
                          ))}
                        </ul>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

const LISTED_ISSUES = 3;

/** A model's issues: a few listed; more are counted by kind, with the whole list folded. */
function Issues({ issues }: { issues: ModelHealth["issues"] }) {
  if (issues.length === 0) return <>none</>;
  const list = (
    <ul className="plain-list">
      {issues.map((issue, i) => (
        <li key={i}>
          <code>{issue.path}</code>: {label("issueKind", issue.kind)}
          {issue.detail ? ` (${issue.detail})` : ""}
        </li>
      ))}
    </ul>
  );
  if (issues.length <= LISTED_ISSUES) return list;
  const byKind = new Map<string, number>();
  for (const issue of issues) byKind.set(issue.kind, (byKind.get(issue.kind) ?? 0) + 1);
  const counts = [...byKind].map(([kind, n]) => `${n} ${n === 1 ? "file" : "files"} ${label("issueKind", kind)}`);
  return (
    <details>
      <summary>{counts.join(", ")}</summary>
      {list}
    </details>
  );
}

/** An action code in words; an older service's command line is shown as it came. */
function ActionText({ action }: { action: string }) {
  return Object.hasOwn(LABELS.action, action) ? <strong>{label("action", action)}</strong> : <code>{action}</code>;
}

function Stat({ label: name, value }: { label: string; value: string | number }) {
  return (
    <div className="stat">
      <span className="stat__label">{name}</span>
      <span className="stat__value">{value}</span>
    </div>
  );
}
