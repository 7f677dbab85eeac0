import { useId, type ReactNode } from "react";
import { Modal } from "./Modal";

/** Asks before something that cannot be undone: "Confirm" goes ahead, "Keep" backs out. */
export function ConfirmDialog({
  title,
  children,
  onConfirm,
  onKeep,
  confirmDisabled = false,
}: {
  title: string;
  children?: ReactNode;
  onConfirm: () => void;
  onKeep: () => void;
  confirmDisabled?: boolean;
}) {
  const id = useId();
  return (
    <Modal labelledBy={`${id}-title`} describedBy={`${id}-body`} onClose={onKeep}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-body`}>{children}</div>
      <div className="modal__actions">
        <button type="button" onClick={onKeep} data-autofocus>
          Keep
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={confirmDisabled}>
          Confirm
        </button>
      </div>
    </Modal>
  );
}
