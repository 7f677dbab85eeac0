import { useId, useState } from "react";
import { api, scopeOf } from "../../api/endpoints";
import type { ModelStatuses, QuarantineEntry } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { EmptyState, Loading, Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { formatBytes, formatTime } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";
import { useResource } from "../../hooks/useResource";

/**
 * What a purge would free. With `force`, every entry. Otherwise only entries whose file is
 * back in the store, verified; the list does not say which, so entries of models that are
 * available now (complete and verified) are counted as an estimate.
 */
export function purgeEstimate(
  entries: QuarantineEntry[],
  force: boolean,
  statuses: ModelStatuses | undefined,
): { bytes: number; files: number; exact: boolean } {
  if (force) return { bytes: entries.reduce((sum, e) => sum + e.size_bytes, 0), files: entries.length, exact: true };
  const repaired = new Set((statuses?.data ?? []).filter((s) => s.availability_status === "available").map((s) => s.repo_id));
  const freed = entries.filter((e) => repaired.has(e.repo_id));
  return { bytes: freed.reduce((sum, e) => sum + e.size_bytes, 0), files: freed.length, exact: false };
}

/** Files set aside as damaged or unsafe, and purging them. */
export function Quarantine() {
  const id = useId();
  const entries = useResource(() => api.quarantine(), []);
  const statuses = useResource(() => api.statuses(), []);
  const action = useAction();
  const canPurge = useScope().can(scopeOf("purgeQuarantine"));
  const [force, setForce] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState("");
  useServerEvents(["repair.finished", "repair.started", "model.state"], (event) => {
    if (event.type !== "model.state") void entries.reload();
    void statuses.reload();
  });

  const list = entries.data ?? [];
  const total = list.reduce((sum, e) => sum + e.size_bytes, 0);
  const estimate = purgeEstimate(list, force, statuses.data);

  const purge = async () => {
    setConfirming(false);
    setNotice("");
    const result = await action.run("purge", () => api.purgeQuarantine(force));
    if (result)
      setNotice(
        `Purged ${result.purged} file(s), freeing ${formatBytes(result.freed_bytes)}` +
          (result.kept ? `; ${result.kept} kept (their file is not back in the store yet).` : "."),
      );
    void entries.reload();
  };

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Quarantine</h2>
      <ErrorAlert error={entries.error} />
      {entries.loading && !entries.data ? <Loading what="the quarantine" /> : null}
      {entries.data && list.length === 0 ? (
        <EmptyState>The quarantine is empty: no damaged or unsafe file has been set aside.</EmptyState>
      ) : null}
      {list.length > 0 ? (
        <>
          <p>
            {list.length} file(s), {formatBytes(total)}.
          </p>
          <div className="table-scroll">
            <table aria-label="Quarantined files">
              <thead>
                <tr>
                  <th scope="col">Repository</th>
                  <th scope="col">File</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Size</th>
                  <th scope="col">Set aside</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr key={e.entry_id}>
                    <td>{e.repo_id}</td>
                    <td>
                      <code>{e.path}</code>
                    </td>
                    <td>{e.reason}</td>
                    <td>{formatBytes(e.size_bytes)}</td>
                    <td>{formatTime(e.quarantined_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ScopeNote what="Purging the quarantine" need={scopeOf("purgeQuarantine")} />
          {canPurge ? (
            <div className="actions">
              <label className="checkbox">
                <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
                Also purge files whose model is not repaired yet
              </label>
              <button type="button" className="danger-outline" onClick={() => setConfirming(true)} disabled={action.busy !== null}>
                Purge quarantine
              </button>
            </div>
          ) : null}
        </>
      ) : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
      <Notice>{notice}</Notice>
      {confirming ? (
        <ConfirmDialog title="Purge the quarantine?" onConfirm={() => void purge()} onKeep={() => setConfirming(false)}>
          {force ? (
            <p>
              All {list.length} quarantined file(s) are deleted for good, freeing{" "}
              <strong data-testid="purge-bytes">{formatBytes(estimate.bytes)}</strong>.
            </p>
          ) : (
            <>
              <p>
                Quarantined files whose model was repaired and verified are deleted for good, freeing about{" "}
                <strong data-testid="purge-bytes">{formatBytes(estimate.bytes)}</strong> ({estimate.files} of{" "}
                {list.length} file(s)).
              </p>
              <p className="muted">
                The others ({formatBytes(total - estimate.bytes)}) stay until their model is repaired
                {statuses.error ? "; the models' states could not be read, so the estimate may be low" : ""}.
              </p>
            </>
          )}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
