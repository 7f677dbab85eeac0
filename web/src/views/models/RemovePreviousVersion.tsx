import { useState } from "react";
import { api, scopeOf } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { formatBytes } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";

export interface RemovePreviousVersionProps {
  modelId: string;
  /** The version kept for a rollback (GET /models/{id}/versions `previous`). */
  previousVersion?: string | null;
  /** The version served now (the same record's `current`). */
  servedVersion?: string | null;
  /** The previous version went (or may have): fetch the model's versions and facts again. */
  onChanged: (modelId: string) => void;
}

/** Whether a previous version is kept apart from the served one, so removing it frees space. */
export function canRemovePrevious(previous: string | null | undefined, served: string | null | undefined): boolean {
  return Boolean(previous) && previous !== served;
}

/** "Remove previous version": after a confirmation naming it, deletes the version kept for
 * a rollback (DELETE /models/{id}/versions/previous) and says how much was freed. */
export function RemovePreviousVersion({ modelId, previousVersion, servedVersion, onChanged }: RemovePreviousVersionProps) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState("");
  const { can } = useScope();
  // A token without the scope sees no button (the card's other actions hide the same way).
  const show = canRemovePrevious(previousVersion, servedVersion) && can(scopeOf("prunePrevious"));
  const commit = (previousVersion ?? "").slice(0, 12);

  const remove = async () => {
    setConfirming(false);
    setNotice("");
    const result = await action.run("prune", () => api.prunePrevious(modelId));
    if (result) setNotice(`Previous version removed; ${formatBytes(result.freed_bytes)} freed.`);
    onChanged(modelId);
  };

  if (!show && !notice && !action.error) return null;
  return (
    <div className="model-card__previous">
      {show ? (
        <div className="actions">
          <button
            type="button"
            className="danger-outline"
            onClick={() => setConfirming(true)}
            disabled={action.busy !== null}
            aria-busy={action.busy !== null || undefined}
          >
            Remove previous version
          </button>
        </div>
      ) : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
      <Notice>{notice}</Notice>
      {confirming ? (
        <ConfirmDialog
          title={`Remove the previous version of ${modelId}?`}
          onConfirm={() => void remove()}
          onKeep={() => setConfirming(false)}
        >
          <p>
            The files of version <code>{commit}</code> that the served version does not share are deleted; rolling back
            to it is no longer possible.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
