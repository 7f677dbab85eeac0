import { useId, useState } from "react";
import { api } from "../../api/endpoints";
import type { DailyUsage, UsageReport, UsageStatistics } from "../../api/types";
import { BarChart, type Bar } from "../../components/BarChart";
import { ErrorAlert } from "../../components/ErrorAlert";
import { RelativeTime } from "../../components/RelativeTime";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { formatDuration, formatNumber, formatPercent, formatTime } from "../../format";
import { useResource } from "../../hooks/useResource";
import { useThrottledCallback } from "../../hooks/useThrottledCallback";
import "./AnalyticsView.css";
import { OperationsPanel } from "./OperationsPanel";

export const PERIODS = [7, 30, 90] as const;
/** Days of daily figures the API gives (`last_30_days_usage`), whatever the period. */
export const DAILY_DAYS = 30;
/** Events that change the figures; they reload the report at most this often. */
const USAGE_EVENTS = ["request.released", "model.state"];
export const USAGE_RELOAD_MS = 10_000;

const hourLabel = (h: number) => `${String(h).padStart(2, "0")}:00`;
const hourRange = (h: number) => `${hourLabel(h)}–${hourLabel((h + 1) % 24)}`;

/** The daily figures of the chosen period: the last `days` of the 30 the API gives. */
export function periodDays(daily: DailyUsage[], days: number): DailyUsage[] {
  return daily.slice(-Math.min(days, daily.length));
}

/** Every model's daily figures added up, for the chosen period (see `periodDays`). */
export function dailyTotals(models: UsageStatistics[], days: number): DailyUsage[] {
  const byDay = new Map<string, DailyUsage>();
  for (const m of models)
    for (const d of m.last_30_days_usage) {
      const sum = byDay.get(d.day) ?? { day: d.day, uses: 0, successes: 0, average_generation_time: null };
      byDay.set(d.day, { ...sum, uses: sum.uses + d.uses, successes: sum.successes + d.successes });
    }
  const all = [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
  return periodDays(all, days);
}

const dayBars = (daily: DailyUsage[]): Bar[] =>
  daily.map((d) => ({
    label: d.day.slice(5),
    value: d.uses,
    text: String(d.uses),
    detail: `${d.uses} job(s), ${d.successes} succeeded`,
  }));

export function AnalyticsView() {
  const selectId = useId();
  const [days, setDays] = useState<number>(30);
  const report = useResource(() => api.analytics(days), [days]);
  const reload = report.reload;
  const reloadSoon = useThrottledCallback(() => void reload(), USAGE_RELOAD_MS);
  useServerEvents(USAGE_EVENTS, (event) => {
    if (event.type === RESYNC) void reload(); // back after a lost connection: at once
    else reloadSoon();
  });
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
      {report.data && !report.loading ? <Report report={report.data} days={days} /> : null}
      <OperationsPanel days={days} />
    </section>
  );
}

function Report({ report, days }: { report: UsageReport; days: number }) {
  const used = report.models.filter((m) => m.total_uses > 0);
  const totals = dailyTotals(report.models, days);
  return (
    <>
      {report.note ? (
        <p className="notice" role="note" data-testid="usage-note">
          {report.note}
        </p>
      ) : null}
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
        <section className="panel" aria-labelledby="daily-title">
          <h2 id="daily-title">Jobs per day</h2>
          <BarChart
            title={`Jobs per day, all models, last ${totals.length} days`}
            bars={dayBars(totals)}
            unit="jobs"
            integer
            valueHeader="Jobs"
          />
          {days > DAILY_DAYS ? (
            <p className="muted" data-testid="daily-note">
              Daily figures cover only the last {DAILY_DAYS} days: the service gives no more, so this chart shows{" "}
              {DAILY_DAYS} of the {days} days. The other figures cover the whole period.
            </p>
          ) : null}
        </section>
        <section className="panel" aria-labelledby="peak-title">
          <h2 id="peak-title">Peak hours</h2>
          {/* The API ranks the busiest hours but gives no counts: a ranked list, not bars. */}
          {report.peak_usage_hours.length ? (
            <>
              <p className="muted">The busiest hours of the period, most used first.</p>
              <ol className="peak-hours" aria-label="Busiest hours, most used first">
                {report.peak_usage_hours.map((h) => (
                  <li key={h}>{hourRange(h)}</li>
                ))}
              </ol>
            </>
          ) : (
            <EmptyState>No jobs in this period, so no busy hours yet.</EmptyState>
          )}
        </section>
        <section className="panel" aria-labelledby="success-title">
          <h2 id="success-title">Success rate per model</h2>
          <BarChart
            title="Share of jobs that succeeded"
            bars={used.map((m) => ({ label: m.model_id, value: m.success_rate, text: formatPercent(m.success_rate) }))}
            unit="% of jobs"
            max={1}
            tickFormat={(v) => formatPercent(v)}
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
            unit="seconds per job"
            max={1}
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
      {days > DAILY_DAYS ? (
        <p className="muted">The daily charts below also cover only the last {DAILY_DAYS} days.</p>
      ) : null}
      {report.models.length === 0 ? <EmptyState>No models in the catalog.</EmptyState> : null}
      <div className="chart-grid">
        {report.models.map((m) => (
          <ModelUsage key={m.model_id} stats={m} days={days} />
        ))}
      </div>
    </>
  );
}

function ModelUsage({ stats, days }: { stats: UsageStatistics; days: number }) {
  const id = useId();
  const daily = periodDays(stats.last_30_days_usage, days);
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
        <dd>
          <RelativeTime value={stats.last_used} />
        </dd>
        <dt>Peak hours</dt>
        <dd>{stats.peak_usage_hours.length ? stats.peak_usage_hours.map(hourLabel).join(", ") : "—"}</dd>
      </dl>
      <BarChart
        title={`Daily jobs, ${stats.model_id}, last ${daily.length} days`}
        bars={dayBars(daily)}
        unit="jobs"
        integer
        valueHeader="Jobs"
      />
    </section>
  );
}
