import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../../api/endpoints";
import type { DownloadProgress, ModelStatus, Priority, ServerEvent } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { useBatchedIds } from "../../hooks/useModelRefresh";
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
const VERSION_EVENTS = ["update.applied", "update.rolled_back", "update.settled", "model.removed"];
const STORAGE_EVENTS = ["model.pinned", "model.removed"];

export function ModelsView() {
  const catalog = useResource(() => api.models(), []);
  const statuses = useResource(() => api.statuses(), []);
  const storage = useResource(() => api.storage(), []);
  const queue = useResource(() => api.queue(), []);
  const [progress, setProgress] = useState<Record<string, DownloadProgress>>({});
  const [previous, setPrevious] = useState<Record<string, string | null>>({});

  const patchStatus = useCallback(
    (status: ModelStatus) =>
      statuses.setData((old) =>
        old
          ? {
              ...old,
              data: old.data.some((s) => s.model_id === status.model_id)
                ? old.data.map((s) => (s.model_id === status.model_id ? status : s))
                : [...old.data, status],
            }
          : old,
      ),
    [statuses],
  );

  const refreshStatuses = useBatchedIds((ids) => {
    for (const id of ids) {
      api.status(id).then(patchStatus, () => undefined);
    }
  });

  const loadVersion = useCallback((id: string) => {
    api.versions(id).then(
      (record) => setPrevious((old) => ({ ...old, [id]: record.previous })),
      () => setPrevious((old) => ({ ...old, [id]: null })),
    );
  }, []);

  // Which models could be rolled back: asked once per available model.
  const availableIds = useMemo(
    () => (statuses.data?.data ?? []).filter((s) => s.is_available).map((s) => s.model_id),
    [statuses.data],
  );
  useEffect(() => {
    for (const id of availableIds) if (!(id in previous)) loadVersion(id);
  }, [availableIds, previous, loadVersion]);

  useServerEvents("*", (event: ServerEvent) => {
    if (event.type === RESYNC) {
      void statuses.reload();
      void storage.reload();
      void queue.reload();
      return;
    }
    const id = event.model_id;
    if (event.type === "download.progress" && id) {
      setProgress((old) => ({ ...old, [id]: event.data as unknown as DownloadProgress }));
    }
    if (event.type === "model.state" && id) {
      const state = event.data.state as ModelStatus["availability_status"] | undefined;
      if (state)
        statuses.setData((old) =>
          old
            ? { ...old, data: old.data.map((s) => (s.model_id === id ? { ...s, availability_status: state } : s)) }
            : old,
        );
    }
    if (id && STATUS_EVENTS.includes(event.type)) refreshStatuses(id);
    if (QUEUE_EVENTS.includes(event.type)) void queue.reload();
    if (STORAGE_EVENTS.includes(event.type)) void storage.reload();
    if (id && VERSION_EVENTS.includes(event.type)) loadVersion(id);
  });

  const onChanged = useCallback(
    (id: string) => {
      refreshStatuses(id);
      void storage.reload();
      void queue.reload();
      loadVersion(id);
    },
    [refreshStatuses, storage, queue, loadVersion],
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
            previousVersion={previous[status.model_id]}
            onChanged={onChanged}
          />
        ))}
      </div>
    </section>
  );
}
