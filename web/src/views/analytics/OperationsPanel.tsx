import { api } from "../../api/endpoints";
import type { OperationsReport } from "../../api/types";
import { BarChart } from "../../components/BarChart";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { formatNumber, formatPercent } from "../../format";
import { useResource } from "../../hooks/useResource";
import { useThrottledCallback } from "../../hooks/useThrottledCallback";
import { label } from "../../labels";

/** Events that change the operations figures; they reload them at most this often. */
export const OPERATIONS_EVENTS = ["download.state", "health.checked", "fallback.decided"];
export const OPERATIONS_RELOAD_MS = 10_000;

/** Download success and retries per model, checks per day and fallback usage: the figures
 * Prometheus would give (GET /metrics), kept by the service for those without it. */
export function OperationsPanel({ days }: { days: number }) {
  const ops = useResource(() => api.operations(days), [days]);
  const reload = ops.reload;
  const reloadSoon = useThrottledCallback(() => void reload(), OPERATIONS_RELOAD_MS);
  useServerEvents(OPERATIONS_EVENTS, (event) => {
    if (event.type === RESYNC) void reload();
    else reloadSoon();
  });
  return (
    <section aria-labelledby="operations-title">
      <h2 id="operations-title">Operations</h2>
      <ErrorAlert error={ops.error} />
      {ops.loading ? <Loading what="operations figures" /> : null}
      {ops.data && !ops.loading ? <Operations ops={ops.data} /> : null}
    </section>
  );
}

function Operations({ ops }: { ops: OperationsReport }) {
  return (
    <div className="chart-grid">
      <Downloads ops={ops} />
      <section className="panel" aria-labelledby="trend-title">
        <h2 id="trend-title">Health trend</h2>
        {ops.health_trend.length === 0 ? (
          <EmptyState>No integrity checks in this period.</EmptyState>
        ) : (
          <BarChart
            title="Issues found per day"
            bars={ops.health_trend.map((d) => ({
              label: d.day.slice(5),
              value: d.issues,
              text: String(d.issues),
              detail: `${d.checks} check(s), ${d.unhealthy} unhealthy, ${d.issues} issue(s)`,
              highlight: d.unhealthy > 0,
            }))}
            unit="issues"
            integer
            valueHeader="Issues"
          />
        )}
      </section>
      <Fallbacks ops={ops} />
    </div>
  );
}

function Downloads({ ops }: { ops: OperationsReport }) {
  return (
    <section className="panel" aria-labelledby="downloads-title">
      <h2 id="downloads-title">Downloads</h2>
      {ops.downloads.length === 0 ? (
        <EmptyState>No download ended in this period.</EmptyState>
      ) : (
        <table aria-label="Downloads per model">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Jobs</th>
              <th scope="col">Success</th>
              <th scope="col">Retries</th>
              <th scope="col">Failed with</th>
            </tr>
          </thead>
          <tbody>
            {ops.downloads.map((d) => (
              <tr key={d.model_id}>
                <th scope="row">{d.model_id}</th>
                <td>{d.jobs}</td>
                <td>{d.success_rate === null ? "—" : formatPercent(d.success_rate)}</td>
                <td>
                  {d.retries} ({formatNumber(d.retries_per_job)}/job)
                </td>
                <td>
                  {Object.entries(d.failure_codes)
                    .map(([code, n]) => `${code} (${n})`)
                    .join(", ") || "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Fallbacks({ ops }: { ops: OperationsReport }) {
  return (
    <section className="panel" aria-labelledby="fallback-title">
      <h2 id="fallback-title">Fallback usage</h2>
      {ops.strategies.length === 0 ? (
        <EmptyState>No job asked for a model in this period.</EmptyState>
      ) : (
        <BarChart
          title="Jobs per strategy"
          bars={ops.strategies.map((s) => ({
            label: label("strategyType", s.strategy),
            value: s.count,
            text: String(s.count),
            highlight: s.strategy === "mock_generation",
          }))}
          unit="jobs"
          integer
          valueHeader="Jobs"
        />
      )}
      {ops.alternatives.length ? (
        <ul aria-label="Alternatives used">
          {ops.alternatives.map((a) => (
            <li key={`${a.requested_model} ${a.used_model}`}>
              {a.requested_model} ran on {a.used_model}: {a.count} job(s)
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
