import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../../api/endpoints";
import type { DownloadProgress, DownloadStatus, ServerEvent } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { useBatchedIds } from "../../hooks/useBatchedIds";
import { RequestOrder } from "../../hooks/requestOrder";
import { useResource } from "../../hooks/useResource";
import { BandwidthControl } from "./BandwidthControl";
import { DownloadRow } from "./DownloadRow";
import { QueueList } from "./QueueList";
import "./DownloadsView.css";

/** Model states whose download job is worth a look (its progress is fetched). */
const ACTIVE_STATES = new Set(["queued", "downloading", "verifying", "paused", "failed", "updating", "repairing"]);
/** Download statuses listed here; finished ones (completed, cancelled) leave the list. */
export const LISTED_STATUSES: ReadonlySet<DownloadStatus> = new Set<DownloadStatus>([
  "queued",
  "downloading",
  "verifying",
  "paused",
  "failed",
]);
const QUEUE_EVENTS = new Set([
  "queue.changed",
  "download.queued",
  "download.started",
  "download.state",
  "download.priority",
  "download.cancelled",
]);
/** Events that say a model's download changed in a way a progress event may not show. */
const PROGRESS_EVENTS = new Set(["download.state", "download.retry"]);

export function DownloadsView() {
  const queue = useResource(() => api.queue(), []);
  const statuses = useResource(() => api.statuses(), []);
  const reloadQueue = queue.reload;
  const reloadStatuses = statuses.reload;
  const setQueue = queue.setData;
  const [progress, setProgress] = useState<Record<string, DownloadProgress>>({});

  // Each model's progress is asked for once (answered or failed); events keep it fresh,
  // and it is asked again only when an event says that model's download changed.
  const asked = useRef(new Set<string>());
  const order = useRef(new RequestOrder());
  const fetchBatch = useBatchedIds((ids) => {
    for (const id of ids) {
      const n = order.current.begin();
      api.progress(id).then(
        (p) => {
          if (order.current.accept(id, n)) setProgress((old) => ({ ...old, [id]: p }));
        },
        () => undefined,
      );
    }
  }, 50);
  const fetchProgress = useCallback(
    (id: string, changed = false) => {
      if (asked.current.has(id) && !changed) return;
      asked.current.add(id);
      fetchBatch(id);
    },
    [fetchBatch],
  );

  const activeIds = useMemo(() => {
    const ids = new Set<string>();
    for (const e of queue.data?.data ?? []) ids.add(e.model_id);
    for (const s of statuses.data?.data ?? []) if (ACTIVE_STATES.has(s.availability_status)) ids.add(s.model_id);
    return [...ids];
  }, [queue.data, statuses.data]);
  useEffect(() => {
    for (const id of activeIds) fetchProgress(id);
  }, [activeIds, fetchProgress]);

  useServerEvents("*", (event: ServerEvent) => {
    if (event.type === RESYNC) {
      // Events may have been missed: ask again for everything.
      asked.current.clear();
      void reloadQueue();
      void reloadStatuses();
      for (const id of Object.keys(progress)) fetchProgress(id, true);
      return;
    }
    const id = event.model_id;
    if (event.type === "download.progress" && id) {
      asked.current.add(id); // the event is its progress: nothing to ask for
      if (order.current.accept(id, order.current.begin()))
        setProgress((old) => ({ ...old, [id]: event.data as unknown as DownloadProgress }));
      return;
    }
    if (QUEUE_EVENTS.has(event.type)) void reloadQueue();
    if (id && PROGRESS_EVENTS.has(event.type)) fetchProgress(id, true);
  });

  const onChanged = useCallback(
    (id: string) => {
      fetchProgress(id, true);
      void reloadQueue();
    },
    [fetchProgress, reloadQueue],
  );

  const onMoved = (moved: string[]) => {
    setQueue((old) => {
      if (!old) return old;
      const rank = new Map(moved.map((m, i) => [m, i]));
      const data = [...old.data].sort(
        (a, b) => (rank.get(a.model_id) ?? Infinity) - (rank.get(b.model_id) ?? Infinity),
      );
      return { ...old, data: data.map((e, i) => ({ ...e, position: i })) };
    });
    void reloadQueue();
  };

  // Only downloads in the queue or under way (queued, downloading, verifying, paused,
  // failed): in queue order first, then the others by name.
  const rows = useMemo(() => {
    const rank = new Map((queue.data?.data ?? []).map((e, i) => [e.model_id, i]));
    return Object.values(progress)
      .filter((p) => rank.has(p.model_id) || LISTED_STATUSES.has(p.status))
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
