import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../../api/endpoints";
import type { DownloadProgress, ServerEvent } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { useBatchedIds } from "../../hooks/useModelRefresh";
import { useResource } from "../../hooks/useResource";
import { BandwidthControl } from "./BandwidthControl";
import { DownloadRow } from "./DownloadRow";
import { QueueList } from "./QueueList";
import "./DownloadsView.css";

const ACTIVE_STATES = new Set(["queued", "downloading", "verifying", "paused", "failed", "updating", "repairing"]);
const QUEUE_EVENTS = new Set([
  "queue.changed",
  "download.queued",
  "download.started",
  "download.state",
  "download.priority",
  "download.cancelled",
]);

export function DownloadsView() {
  const queue = useResource(() => api.queue(), []);
  const statuses = useResource(() => api.statuses(), []);
  const [progress, setProgress] = useState<Record<string, DownloadProgress>>({});

  const fetchProgress = useBatchedIds((ids) => {
    for (const id of ids)
      api.progress(id).then(
        (p) => setProgress((old) => ({ ...old, [id]: p })),
        () => undefined,
      );
  }, 50);

  // Every model with a download job gets its progress fetched once; events keep it fresh.
  const activeIds = useMemo(() => {
    const ids = new Set<string>();
    for (const e of queue.data?.data ?? []) ids.add(e.model_id);
    for (const s of statuses.data?.data ?? []) if (ACTIVE_STATES.has(s.availability_status)) ids.add(s.model_id);
    return [...ids];
  }, [queue.data, statuses.data]);
  useEffect(() => {
    for (const id of activeIds) if (!(id in progress)) fetchProgress(id);
  }, [activeIds, progress, fetchProgress]);

  useServerEvents("*", (event: ServerEvent) => {
    if (event.type === RESYNC) {
      void queue.reload();
      void statuses.reload();
      for (const id of Object.keys(progress)) fetchProgress(id);
      return;
    }
    const id = event.model_id;
    if (event.type === "download.progress" && id) {
      setProgress((old) => ({ ...old, [id]: event.data as unknown as DownloadProgress }));
      return;
    }
    if (QUEUE_EVENTS.has(event.type)) void queue.reload();
    if (id && (event.type === "download.state" || event.type === "download.retry")) fetchProgress(id);
  });

  const onChanged = useCallback(
    (id: string) => {
      fetchProgress(id);
      void queue.reload();
    },
    [fetchProgress, queue],
  );

  const onMoved = (order: string[]) => {
    queue.setData((old) => {
      if (!old) return old;
      const rank = new Map(order.map((m, i) => [m, i]));
      const data = [...old.data].sort(
        (a, b) => (rank.get(a.model_id) ?? Infinity) - (rank.get(b.model_id) ?? Infinity),
      );
      return { ...old, data: data.map((e, i) => ({ ...e, position: i })) };
    });
    void queue.reload();
  };

  // Rows in queue order first, then the others (finished or stopped) by name.
  const rows = useMemo(() => {
    const rank = new Map((queue.data?.data ?? []).map((e, i) => [e.model_id, i]));
    return Object.values(progress)
      .filter((p) => p.status !== "not_started")
      .sort((a, b) => {
        const ra = rank.get(a.model_id) ?? Infinity;
        const rb = rank.get(b.model_id) ?? Infinity;
        return ra !== rb ? ra - rb : a.model_id.localeCompare(b.model_id);
      });
  }, [progress, queue.data]);

  const loading = rows.length === 0 && ((queue.loading && !queue.data) || (statuses.loading && !statuses.data));

  return (
    <section aria-labelledby="downloads-title">
      <h1 id="downloads-title">Downloads</h1>
      <div className="downloads-layout">
        <div className="downloads-main">
          <section aria-labelledby="active-title" className="panel">
            <h2 id="active-title">Progress</h2>
            <ErrorAlert error={statuses.error} />
            {loading ? <Loading what="downloads" /> : null}
            {!loading && rows.length === 0 ? (
              <EmptyState>No downloads are running. Start one with Download on the Models page.</EmptyState>
            ) : null}
            <div className="download-list">
              {rows.map((p) => (
                <DownloadRow key={p.model_id} progress={p} onChanged={onChanged} />
              ))}
            </div>
          </section>
        </div>
        <div className="downloads-side">
          <BandwidthControl />
          <ErrorAlert error={queue.error} />
          {queue.data ? <QueueList entries={queue.data.data} onMoved={onMoved} /> : null}
        </div>
      </div>
    </section>
  );
}
