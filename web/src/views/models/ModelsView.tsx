import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../../api/endpoints";
import type { AvailabilityState, DownloadProgress, ModelStatus, Priority, ServerEvent } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { useBatchedIds } from "../../hooks/useBatchedIds";
import { RequestOrder } from "../../hooks/requestOrder";
import { useResource } from "../../hooks/useResource";
import { ModelCard } from "./ModelCard";
import "./ModelsView.css";

/** Events after which a model's status is fetched again. */
const STATUS_EVENTS = [
  "download.queued",
  "download.started",
  "download.state",
  "download.cancelled",
  "model.state",
  "model.removed",
  "model.pinned",
  "health.checked",
  "repair.started",
  "repair.finished",
  "update.available",
  "update.started",
  "update.applied",
  "update.rolled_back",
  "update.settled",
];
const QUEUE_EVENTS = ["queue.changed", "download.priority", "download.queued", "download.state"];
/** Events that say a model's kept versions changed (so Rollback may appear or go). */
const VERSION_EVENTS = ["update.applied", "update.rolled_back", "update.settled", "model.removed"];
const STORAGE_EVENTS = ["model.pinned", "model.removed"];

/** The card state a download's status stands for, where there is one. */
const STATE_OF_DOWNLOAD: Partial<Record<DownloadProgress["status"], AvailabilityState>> = {
  queued: "queued",
  downloading: "downloading",
  paused: "paused",
  failed: "failed",
  completed: "available",
};

interface KeptVersions {
  previous: string | null;
  served: string | null;
}
const NO_VERSIONS: KeptVersions = { previous: null, served: null };

/** What of a progress event can change the card's status and actions. */
const progressKey = (p: DownloadProgress) => `${p.status}|${p.can_pause}|${p.can_resume}`;

export function ModelsView() {
  const catalog = useResource(() => api.models(), []);
  const statuses = useResource(() => api.statuses(), []);
  const storage = useResource(() => api.storage(), []);
  const queue = useResource(() => api.queue(), []);
  const [progress, setProgress] = useState<Record<string, DownloadProgress>>({});
  // Per model: the version kept for a rollback and the one served (GET .../versions).
  const [versions, setVersions] = useState<Record<string, KeptVersions>>({});
  const setStatuses = statuses.setData;
  const reloadStatuses = statuses.reload;
  const reloadStorage = storage.reload;
  const reloadQueue = queue.reload;

  // Per-model status answers can overtake each other: only a newer one is applied.
  const statusOrder = useRef(new RequestOrder());
  const patchStatus = useCallback(
    (status: ModelStatus) =>
      setStatuses((old) =>
        old
          ? {
              ...old,
              data: old.data.some((s) => s.model_id === status.model_id)
                ? old.data.map((s) => (s.model_id === status.model_id ? status : s))
                : [...old.data, status],
            }
          : old,
      ),
    [setStatuses],
  );
  const refreshStatuses = useBatchedIds((ids) => {
    for (const id of ids) {
      const n = statusOrder.current.begin();
      api.status(id).then(
        (status) => {
          if (statusOrder.current.accept(id, n)) patchStatus(status);
        },
        () => undefined,
      );
    }
  });

  // Which models could be rolled back: asked once per model (answered or failed), and
  // again only when an event says its versions changed.
  const versionsAsked = useRef(new Set<string>());
  const versionOrder = useRef(new RequestOrder());
  const loadVersion = useCallback((id: string) => {
    versionsAsked.current.add(id);
    const n = versionOrder.current.begin();
    api.versions(id).then(
      (record) => {
        if (versionOrder.current.accept(id, n))
          setVersions((old) => ({ ...old, [id]: { previous: record.previous, served: record.current } }));
      },
      () => {
        if (versionOrder.current.accept(id, n)) setVersions((old) => ({ ...old, [id]: NO_VERSIONS }));
      },
    );
  }, []);
  const availableIds = useMemo(
    () => (statuses.data?.data ?? []).filter((s) => s.is_available).map((s) => s.model_id),
    [statuses.data],
  );
  useEffect(() => {
    for (const id of availableIds) if (!versionsAsked.current.has(id)) loadVersion(id);
  }, [availableIds, loadVersion]);

  // The last progress of each model as far as the status cares; a change means fetch it.
  const lastProgress = useRef(new Map<string, string>());

  useServerEvents("*", (event: ServerEvent) => {
    if (event.type === RESYNC) {
      // Events may have been missed: everything may have changed.
      lastProgress.current.clear();
      versionsAsked.current.clear();
      void reloadStatuses();
      void reloadStorage();
      void reloadQueue();
      return;
    }
    const id = event.model_id;
    if (event.type === "download.progress" && id) {
      const p = event.data as unknown as DownloadProgress;
      setProgress((old) => ({ ...old, [id]: p }));
      // The service sends progress after any event of the model: most say nothing new. Fetch
      // the status only when the download's state or controls changed.
      const key = progressKey(p);
      const before = lastProgress.current.get(id);
      if (before === undefined) {
        // The first progress seen: compare with the card (once the cards are there).
        const shown = statuses.data?.data.find((s) => s.model_id === id);
        if (!shown) return;
        const expected = STATE_OF_DOWNLOAD[p.status];
        if (expected && shown.availability_status !== expected) refreshStatuses(id);
      } else if (before !== key) refreshStatuses(id);
      lastProgress.current.set(id, key);
      return;
    }
    if (event.type === "model.state" && id) {
      const state = event.data.state as ModelStatus["availability_status"] | undefined;
      if (state)
        setStatuses((old) =>
          old
            ? { ...old, data: old.data.map((s) => (s.model_id === id ? { ...s, availability_status: state } : s)) }
            : old,
        );
    }
    if (id && STATUS_EVENTS.includes(event.type)) refreshStatuses(id);
    if (QUEUE_EVENTS.includes(event.type)) void reloadQueue();
    if (STORAGE_EVENTS.includes(event.type)) void reloadStorage();
    if (id && VERSION_EVENTS.includes(event.type)) loadVersion(id);
  });

  // Stable, so the memoised cards do not re-render for it.
  const onChanged = useCallback(
    (id: string) => {
      refreshStatuses(id);
      void reloadStorage();
      void reloadQueue();
    },
    [refreshStatuses, reloadStorage, reloadQueue],
  );

  const models = useMemo(() => new Map((catalog.data?.data ?? []).map((m) => [m.id, m])), [catalog.data]);
  const pinned = useMemo(
    () => new Set((storage.data?.models ?? []).filter((m) => m.pinned).map((m) => m.model_id)),
    [storage.data],
  );
  const priorities = useMemo(
    () => new Map<string, Priority>((queue.data?.data ?? []).map((e) => [e.model_id, e.priority])),
    [queue.data],
  );

  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <ErrorAlert error={statuses.error} />
      {catalog.error && !statuses.error ? <ErrorAlert error={catalog.error} /> : null}
      {statuses.loading && !statuses.data ? <Loading what="models" /> : null}
      {statuses.data && statuses.data.data.length === 0 ? (
        <EmptyState>
          The catalog has no models. Add one with a catalog file (<code>--catalog FILE</code>) and restart the service.
        </EmptyState>
      ) : null}
      <div className="card-grid">
        {(statuses.data?.data ?? []).map((status) => (
          <ModelCard
            key={status.model_id}
            status={status}
            model={models.get(status.model_id)}
            pinned={pinned.has(status.model_id)}
            priority={priorities.get(status.model_id)}
            progress={progress[status.model_id]}
            previousVersion={versions[status.model_id]?.previous}
            servedVersion={versions[status.model_id]?.served}
            onChanged={onChanged}
            onVersionsChanged={loadVersion}
          />
        ))}
      </div>
    </section>
  );
}
