import { useEffect, useId, useMemo, useState } from "react";
import { api, scopeOf } from "../../api/endpoints";
import type { QueuedRequest, Wait } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading, Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RelativeTime } from "../../components/RelativeTime";
import { formatDuration } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";
import { ScopeNote } from "../../components/ScopeNote";
import { useDebouncedCallback } from "../../hooks/useDebouncedCallback";
import { useResource } from "../../hooks/useResource";
import { label } from "../../labels";

const REQUEST_EVENTS = ["request.queued", "request.released", "request.expired", "request.cancelled"];
const WAIT_EVENTS = ["download.state", "queue.changed", "model.state"];

function describeWait(wait: Wait | undefined): string {
  if (!wait) return "…";
  if (wait.seconds === null) return wait.reason || "unknown";
  const range =
    wait.low_seconds !== null && wait.high_seconds !== null
      ? ` (${formatDuration(wait.low_seconds)}–${formatDuration(wait.high_seconds)})`
      : "";
  return `${formatDuration(wait.seconds)}${range}`;
}

/** Generation jobs waiting for their model, with when they expire and the model's ETA. */
export function RequestsList() {
  const id = useId();
  const requests = useResource(() => api.requests(), []);
  const [waits, setWaits] = useState<Record<string, Wait>>({});
  const action = useAction();
  const canCancel = useScope().can(scopeOf("cancelRequest"));
  const [notice, setNotice] = useState("");
  const reload = useDebouncedCallback(() => void requests.reload(), 300);
  useServerEvents(REQUEST_EVENTS, reload);

  const modelIds = useMemo(() => [...new Set((requests.data ?? []).map((r) => r.model_id))], [requests.data]);
  const loadWaits = useDebouncedCallback(() => {
    for (const modelId of modelIds)
      api.wait(modelId).then(
        (w) => setWaits((old) => ({ ...old, [modelId]: w })),
        () => undefined,
      );
  }, 300);
  useEffect(() => {
    if (modelIds.length) loadWaits();
  }, [modelIds, loadWaits]);
  useServerEvents(WAIT_EVENTS, loadWaits);

  const cancel = async (request: QueuedRequest) => {
    setNotice("");
    const result = await action.run(request.request_id, () => api.cancelRequest(request.request_id));
    if (result) setNotice(`Request ${request.request_id} cancelled.`);
    void requests.reload();
  };

  const list = requests.data ?? [];
  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Queued requests</h2>
      <ErrorAlert error={requests.error} />
      {requests.loading && !requests.data ? <Loading what="requests" /> : null}
      {requests.data && list.length === 0 ? (
        <EmptyState>
          No job is waiting for a model. Jobs sent to <code>POST /api/v1/generate</code> while their model is missing
          show up here.
        </EmptyState>
      ) : null}
      {list.length > 0 ? (
        <div className="table-scroll">
          <table aria-labelledby={`${id}-title`}>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Position</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Model ready in</th>
                {canCancel ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.request_id} aria-label={`request ${r.request_id}`}>
                  <th scope="row">
                    <code>{r.request_id}</code>
                  </th>
                  <td>{r.model_id}</td>
                  <td>{label("requestState", r.state)}</td>
                  <td>{r.position === null ? "—" : r.position + 1}</td>
                  <td>
                    <RelativeTime value={r.created_at} />
                  </td>
                  <td>
                    <RelativeTime value={r.expires_at} />
                  </td>
                  <td>{describeWait(waits[r.model_id])}</td>
                  {canCancel ? (
                    <td>
                      <button
                        type="button"
                        className="danger-outline"
                        onClick={() => void cancel(r)}
                        disabled={action.busy !== null}
                      >
                        Cancel
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.length > 0 ? <ScopeNote what="Cancelling a request" need={scopeOf("cancelRequest")} /> : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
      <Notice>{notice}</Notice>
    </section>
  );
}
