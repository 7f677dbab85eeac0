import { useId } from "react";
import { api, scopeOf } from "../../api/endpoints";
import type { QueueEntry } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState } from "../../components/Status";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";
import { ScopeNote } from "../../components/ScopeNote";
import { label } from "../../labels";

/** The download order, changeable one step at a time (buttons named "Move {id} up"). Places
 * are the API's `position` (1 = the front), as the CLI shows them. */
export function QueueList({ entries, onMoved }: { entries: QueueEntry[]; onMoved: (order: string[]) => void }) {
  const id = useId();
  const action = useAction();
  const canMove = useScope().can(scopeOf("moveInQueue"));
  const move = async (modelId: string, position: number) => {
    const result = await action.run(modelId, () => api.moveInQueue(modelId, position));
    if (result) onMoved(result.order);
  };
  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Queue</h2>
      {entries.length === 0 ? (
        <EmptyState>The queue is empty. Start a download from the Models page.</EmptyState>
      ) : (
        <ol className="queue">
          {entries.map((entry, index) => (
            <li key={entry.model_id} aria-label={`queue ${entry.model_id}`} className="queue__item">
              <span className="queue__pos" aria-hidden="true">
                {entry.position}
              </span>
              <span className="queue__name">{entry.model_id}</span>
              <span className="badge">{label("priority", entry.priority)}</span>
              <span className={`badge badge--${entry.status}`}>{label("downloadStatus", entry.status)}</span>
              {canMove ? (
                <span className="queue__buttons">
                  <button
                    type="button"
                    onClick={() => void move(entry.model_id, entry.position - 1)}
                    disabled={index === 0 || action.busy !== null}
                  >
                    Move <span className="visually-hidden">{entry.model_id}</span> up
                  </button>
                  <button
                    type="button"
                    onClick={() => void move(entry.model_id, entry.position + 1)}
                    disabled={index === entries.length - 1 || action.busy !== null}
                  >
                    Move <span className="visually-hidden">{entry.model_id}</span> down
                  </button>
                </span>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      {entries.length > 0 ? <ScopeNote what="Reordering, pausing and resuming downloads" need={scopeOf("moveInQueue")} /> : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
    </section>
  );
}
