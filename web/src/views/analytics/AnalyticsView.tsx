import { useId, useState } from "react";
import { api } from "../../api/endpoints";
import type { UsageReport, UsageStatistics } from "../../api/types";
import { BarChart, type Bar } from "../../components/BarChart";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { formatDuration, formatNumber, formatPercent, formatRelative, formatTime } from "../../format";
import { useResource } from "../../hooks/useResource";
import "./AnalyticsView.css";

export const PERIODS = [7, 30, 90] as const;

const hourLabel = (h: number) => `${String(h).padStart(2, "0")}:00`;

/** 24 bars, the peak hours tallest first (the API ranks them, most used first). */
export function peakHourBars(ranked: number[]): Bar[] {
  return Array.from({ length: 24 }, (_, hour) => {
    const rank = ranked.indexOf(hour);
    return {
      label: hourLabel(hour),
      value: rank < 0 ? 0 : ranked.length - rank,
      text: rank < 0 ? "not a peak hour" : `peak hour #${rank + 1}`,
      highlight: rank === 0,
    };
  });
}

export function AnalyticsView() {
  const selectId = useId();
  const [days, setDays] = useState<number>(30);
  const report = useResource(() => api.analytics(days), [days]);
  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">Analytics</h1>
      <div className="field field--inline">
        <label htmlFor={selectId}>Period</label>
        <select id={selectId} value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {PERIODS.map((d) => (
            <option key={d} value={d}>
              Last {d} days
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert error={report.error} />
      {report.loading ? <Loading what="usage figures" /> : null}
      {report.data && !report.loading ? <Report report={report.data} /> : null}
    </section>
  );
}

function Report({ report }: { report: UsageReport }) {
  const used = report.models.filter((m) => m.total_uses > 0);
  return (
    <>
      <p>
        {report.total_uses} job(s) from {formatTime(report.period.start)} to {formatTime(report.period.end)}.
      </p>
      {report.total_uses === 0 ? (
        <EmptyState>
          No generation jobs were reported in this period. Generation apps report each job to{" "}
          <code>POST /api/v1/models/{"{id}"}/performance</code>; figures appear here once they do.
        </EmptyState>
      ) : null}

      <div className="chart-grid">
        <section className="panel" aria-labelledby="peak-title">
          <h2 id="peak-title">Peak hours</h2>
          <BarChart
            title={
              report.peak_usage_hours.length
                ? `Busiest hours, most first: ${report.peak_usage_hours.map(hourLabel).join(", ")}`
                : "Busiest hours"
            }
            bars={report.peak_usage_hours.length ? peakHourBars(report.peak_usage_hours) : []}
            valueHeader="Rank"
          />
        </section>
        <section className="panel" aria-labelledby="success-title">
          <h2 id="success-title">Success rate per model</h2>
          <BarChart
            title="Share of jobs that succeeded"
            bars={used.map((m) => ({ label: m.model_id, value: m.success_rate, text: formatPercent(m.success_rate, 1) }))}
            max={1}
            valueHeader="Success rate"
          />
        </section>
        <section className="panel" aria-labelledby="time-title">
          <h2 id="time-title">Average generation time per model</h2>
          <BarChart
            title="Seconds per job"
            bars={used.map((m) => ({
              label: m.model_id,
              value: m.average_generation_time,
              text: formatDuration(m.average_generation_time),
            }))}
            valueHeader="Average time"
          />
        </section>
      </div>

      <section className="panel" aria-labelledby="findings-title">
        <h2 id="findings-title">Performance findings</h2>
        {report.findings.length === 0 ? (
          <EmptyState>No slowdowns found: each model runs as fast as its own baseline.</EmptyState>
        ) : (
          <ul className="findings">
            {report.findings.map((f, i) => (
              <li key={i}>
                <p>
                  <strong>{f.model_id}</strong>: {f.message}
                </p>
                <p className="muted">Suggestion: {f.suggestion}</p>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="preload-title">
        <h2 id="preload-title">Preload suggestions</h2>
        {report.preload.length === 0 ? (
          <EmptyState>No model needs preloading: nothing is used often enough yet.</EmptyState>
        ) : (
          <>
            <p>Keep these ready (downloaded and verified) ahead of their busy hours:</p>
            <ul>
              {report.preload.map((id) => (
                <li key={id}>{id}</li>
              ))}
            </ul>
          </>
        )}
      </section>

      <h2>Per model</h2>
      {report.models.length === 0 ? <EmptyState>No models in the catalog.</EmptyState> : null}
      <div className="chart-grid">
        {report.models.map((m) => (
          <ModelUsage key={m.model_id} stats={m} />
        ))}
      </div>
    </>
  );
}

function ModelUsage({ stats }: { stats: UsageStatistics }) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id}>
      <h3 id={id}>{stats.model_id}</h3>
      <dl className="facts">
        <dt>Jobs</dt>
        <dd>
          {stats.total_uses} ({formatNumber(stats.uses_per_day, 2)}/day)
        </dd>
        <dt>Success rate</dt>
        <dd>{stats.total_uses ? formatPercent(stats.success_rate, 1) : "—"}</dd>
        <dt>Average time</dt>
        <dd>{stats.total_uses ? formatDuration(stats.average_generation_time) : "—"}</dd>
        <dt>Last used</dt>
        <dd>{formatRelative(stats.last_used)}</dd>
        <dt>Peak hours</dt>
        <dd>{stats.peak_usage_hours.length ? stats.peak_usage_hours.map(hourLabel).join(", ") : "—"}</dd>
      </dl>
      <BarChart
        title={`Daily jobs, ${stats.model_id}`}
        bars={stats.last_30_days_usage.map((d) => ({
          label: d.day.slice(5),
          value: d.uses,
          text: `${d.uses} job(s), ${d.successes} succeeded`,
        }))}
        valueHeader="Jobs"
      />
    </section>
  );
}
