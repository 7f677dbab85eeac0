import { useConnectionState } from "../events/EventsContext";

/** Whether live events arrive: "Live", or "Reconnecting…" while they cannot. */
export function ConnectionStatus() {
  const state = useConnectionState();
  const live = state === "live";
  return (
    <div role="status" data-testid="connection" className={`connection ${live ? "connection--live" : "connection--lost"}`}>
      <span className="connection__dot" aria-hidden="true" />
      {live ? "Live" : "Reconnecting…"}
    </div>
  );
}
