import { useEffect, useId, useRef, useState } from "react";
import { api, scopeOf } from "../../api/endpoints";
import type { CleanupResult, ModelStatus, Priority } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Notice } from "../../components/Status";
import { formatBytes, formatPercent, shortVersion } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useScope } from "../../hooks/useScope";
import { label, shortLabel } from "../../labels";
import { actionsFor, IN_QUEUE, PRIORITIES, removeBlockedByPin, SCOPE_OF, type ModelAction } from "./modelActions";

export interface ModelActionsProps {
  status: ModelStatus;
  pinned: boolean;
  priority?: Priority;
  previousVersion?: string | null;
  /** Something changed on the service: fetch this model's facts again. */
  onChanged: (modelId: string) => void;
  /** The clicked button went away or was disabled: put keyboard focus somewhere sensible. */
  onFocusLost: () => void;
}

type Confirm = { kind: "Cancel" } | { kind: "Rollback" } | { kind: "Remove"; plan: CleanupResult };

/** A model's action buttons: runs them (asking first before what cannot be undone) and
 * says how it went. */
export function ModelActions({ status, pinned, priority, previousVersion, onChanged, onFocusLost }: ModelActionsProps) {
  const id = status.model_id;
  const action = useAction();
  const [notice, setNotice] = useState<string>("");
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const facts = { pinned, hasPrevious: Boolean(previousVersion) };
  const { can } = useScope();
  const actions = actionsFor(status, facts).filter((name) => can(SCOPE_OF[name]));
  const state = status.availability_status;

  // Keyboard focus: when the button just clicked disappears (Download becomes Pause) or is
  // disabled while its request runs, focus would fall to the page; move it to the card.
  const buttons = useRef(new Map<ModelAction, HTMLButtonElement>());
  const clicked = useRef<ModelAction | null>(null);
  useEffect(() => {
    const name = clicked.current;
    if (!name || confirm) return;
    const button = buttons.current.get(name);
    const active = document.activeElement;
    const focusWasThere = !active || active === document.body || active === button;
    if (!button || !button.isConnected || button.disabled) {
      clicked.current = null;
      if (focusWasThere) onFocusLost();
    } else if (active !== button) {
      clicked.current = null; // the person moved on
    }
  });

  const perform = async (name: string, fn: () => Promise<string | void>) => {
    setNotice("");
    const result = await action.run(name, fn);
    if (typeof result === "string") setNotice(result);
    onChanged(id);
  };

  const onAction = async (name: ModelAction) => {
    clicked.current = name;
    switch (name) {
      case "Download":
        return perform(name, async () => {
          await api.download(id);
          return "Download queued.";
        });
      case "Pause":
        return perform(name, async () => {
          const r = await api.pause(id);
          return r.changed ? "Paused." : "Nothing was running.";
        });
      case "Resume":
        return perform(name, async () => {
          const r = await api.resume(id);
          return r.changed ? "Resumed." : "It was already running.";
        });
      case "Verify":
        return perform(name, async () => {
          const r = await api.verify(id);
          return r.is_healthy
            ? `Verified (${shortLabel("verifyLevel", r.level).toLowerCase()} check): healthy, ${r.files_checked} files checked.`
            : `Verified (${shortLabel("verifyLevel", r.level).toLowerCase()} check): ${r.issues.length} issue(s) found, integrity ${formatPercent(r.integrity_score)}.`;
        });
      case "Repair":
        return perform(name, async () => {
          await api.repair(id);
          return "Repair started: damaged blocks are set aside and fetched again.";
        });
      case "Update":
        return perform(name, async () => {
          const r = await api.update(id);
          return "message" in r ? r.message : "Update started: the current version stays in use until it is ready.";
        });
      case "Pin":
        return perform(name, async () => {
          await api.pin(id);
          return "Pinned: cleanup leaves it alone.";
        });
      case "Unpin":
        return perform(name, async () => {
          await api.unpin(id);
          return "Unpinned.";
        });
      case "Cancel":
      case "Rollback":
        setConfirm({ kind: name });
        return;
      case "Remove": {
        setNotice("");
        const plan = await action.run(name, () => api.remove(id, true));
        if (plan) setConfirm({ kind: "Remove", plan });
        return;
      }
    }
  };

  const onConfirm = async () => {
    const current = confirm;
    setConfirm(null);
    if (!current) return;
    if (current.kind === "Cancel")
      await perform("Cancel", async () => {
        const r = await api.cancel(id);
        return `Download cancelled; ${formatBytes(r.freed_bytes)} freed.`;
      });
    else if (current.kind === "Rollback") await perform("Rollback", async () => (await api.rollback(id)).message);
    else
      await perform("Remove", async () => {
        const r = await api.remove(id, false);
        return r.message || `Removed; ${formatBytes(r.freed_bytes)} freed.`;
      });
  };

  const onPriority = (value: Priority) =>
    perform("Priority", async () => {
      await api.setPriority(id, value);
      return `Priority set to ${value}.`;
    });

  return (
    <>
      <div className="actions model-card__actions">
        {actions.map((name) => (
          <button
            key={name}
            ref={(el) => {
              if (el) buttons.current.set(name, el);
              else buttons.current.delete(name);
            }}
            type="button"
            className={name === "Remove" || name === "Cancel" ? "danger-outline" : undefined}
            onClick={() => void onAction(name)}
            disabled={action.busy !== null}
            aria-busy={action.busy === name || undefined}
          >
            {name}
          </button>
        ))}
        {IN_QUEUE.includes(state) && can(scopeOf("setPriority")) ? (
          <PrioritySelect value={priority ?? "normal"} onChange={onPriority} disabled={action.busy !== null} />
        ) : null}
      </div>
      {removeBlockedByPin(status, facts) ? (
        <p className="muted small">Pinned models cannot be removed: Unpin it first to remove it.</p>
      ) : null}
      <ErrorAlert error={action.error} onDismiss={action.clearError} />
      <Notice>{notice}</Notice>

      {confirm ? (
        <ConfirmDialog
          title={
            confirm.kind === "Cancel"
              ? `Cancel the download of ${id}?`
              : confirm.kind === "Rollback"
                ? `Roll ${id} back?`
                : `Remove ${id}?`
          }
          onConfirm={() => void onConfirm()}
          onKeep={() => setConfirm(null)}
          confirmDisabled={confirm.kind === "Remove" && confirm.plan.removed.length === 0}
        >
          {confirm.kind === "Cancel" ? (
            <p>
              The download stops and its partial data ({formatBytes(status.present_bytes)}) is deleted; downloading
              again starts from the beginning.
            </p>
          ) : null}
          {confirm.kind === "Rollback" ? (
            <p>
              Version {shortVersion(previousVersion)} is served again instead of {shortVersion(status.current_version)}.
            </p>
          ) : null}
          {confirm.kind === "Remove" ? <RemovePlan plan={confirm.plan} /> : null}
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function RemovePlan({ plan }: { plan: CleanupResult }) {
  if (plan.removed.length === 0)
    return (
      <p>
        Nothing would be removed. {plan.kept.map((k) => k.reason).join(" ")} {plan.message}
      </p>
    );
  return (
    <>
      <p>
        Its files are deleted from disk, freeing <strong data-testid="freed">{formatBytes(plan.freed_bytes)}</strong>{" "}
        (free space {formatBytes(plan.free_bytes_before)} → {formatBytes(plan.free_bytes_after)}).
      </p>
      {plan.message ? <p className="muted">{plan.message}</p> : null}
    </>
  );
}

function PrioritySelect({
  value,
  onChange,
  disabled,
}: {
  value: Priority;
  onChange: (p: Priority) => void;
  disabled: boolean;
}) {
  const id = useId();
  return (
    <span className="inline-field">
      <label htmlFor={id}>Priority</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as Priority)}>
        {PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {label("priority", p)}
          </option>
        ))}
      </select>
    </span>
  );
}
