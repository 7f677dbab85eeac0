import { useEffect, useId, useState, type FormEvent } from "react";
import type { Scope } from "../../api/access";
import { api, scopeOf } from "../../api/endpoints";
import type { Fleet, FleetAction, FleetActionKind } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { RelativeTime } from "../../components/RelativeTime";
import { ScopeNote } from "../../components/ScopeNote";
import { EmptyState } from "../../components/Status";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { label } from "../../labels";

/** The scope each fleet action needs: the fleet route takes operate, and update and
 * remove need admin there, as their one-node routes do. */
export const FLEET_ACTION_NEEDS: Record<FleetActionKind, Scope> = {
  pull: scopeOf("askFleet"),
  verify: scopeOf("askFleet"),
  update: "admin",
  remove: "admin",
};
const STATE_CLASS: Record<string, string> = {
  pending: "badge--queued",
  running: "badge--downloading",
  completed: "badge--completed",
  failed: "badge--failed",
};
const RECENT = 10;
/** How often the fleet view asks again: other nodes' changes arrive through the shared
 * database, not through this service's event stream. */
export const FLEET_REFRESH_MS = 2_000;

/** The form asking the fleet to act, and the latest actions with each node's part. */
export function FleetActionPanel({ fleet }: { fleet: Fleet }) {
  const { can } = useScope();
  const actions = useResource(() => api.fleetActions(RECENT), []);
  const { reload } = actions;
  useEffect(() => {
    const timer = window.setInterval(() => void reload(), FLEET_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  const allowed = (Object.keys(FLEET_ACTION_NEEDS) as FleetActionKind[]).filter((a) => can(FLEET_ACTION_NEEDS[a]));

  return (
    <div className="panel">
      <h2>Fleet actions</h2>
      {allowed.length > 0 ? <AskForm fleet={fleet} allowed={allowed} onAsked={reload} /> : null}
      <ScopeNote what="Asking the fleet to pull or verify" need={scopeOf("askFleet")} />
      {allowed.length > 0 ? <ScopeNote what="Asking the fleet to update or remove" need="admin" /> : null}
      <ErrorAlert error={actions.error} />
      <RecentActions actions={actions.data?.data ?? []} />
    </div>
  );
}

function AskForm({ fleet, allowed, onAsked }: { fleet: Fleet; allowed: FleetActionKind[]; onAsked: () => Promise<void> }) {
  const id = useId();
  const [action, setAction] = useState<FleetActionKind>(allowed[0]);
  const [model, setModel] = useState(fleet.models[0]?.model_id ?? "");
  const [nodes, setNodes] = useState<string[]>([]);
  const asking = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = { action, model_id: model, nodes: nodes.length > 0 ? nodes : null };
    if (await asking.run("ask", () => api.askFleet(body))) await onAsked();
  };
  const toggle = (name: string) => setNodes((old) => (old.includes(name) ? old.filter((n) => n !== name) : [...old, name]));

  return (
    <form aria-label="Ask the fleet" className="fleet-form" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <select id={`${id}-action`} value={action} onChange={(e) => setAction(e.target.value as FleetActionKind)}>
          {allowed.map((a) => (
            <option key={a} value={a}>
              {label("fleetAction", a)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-model`}>Model</label>
        <select id={`${id}-model`} value={model} onChange={(e) => setModel(e.target.value)}>
          {fleet.models.map((m) => (
            <option key={m.model_id} value={m.model_id}>
              {m.model_id}
            </option>
          ))}
        </select>
      </div>
      <fieldset className="fleet-nodes">
        <legend>Nodes (none ticked: every online node)</legend>
        {fleet.nodes.map((n) => (
          <label key={n.name}>
            <input type="checkbox" checked={nodes.includes(n.name)} onChange={() => toggle(n.name)} /> {n.name}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={asking.busy !== null || !model}>
        {asking.busy ? "Asking…" : "Ask the fleet"}
      </button>
      <ErrorAlert error={asking.error} onDismiss={asking.clearError} />
    </form>
  );
}

function RecentActions({ actions }: { actions: FleetAction[] }) {
  if (actions.length === 0) return <EmptyState>No fleet action was asked yet.</EmptyState>;
  return (
    <div className="table-scroll">
      <table aria-label="Fleet actions">
        <thead>
          <tr>
            <th scope="col">Asked</th>
            <th scope="col">Action</th>
            <th scope="col">Model</th>
            <th scope="col">By</th>
            <th scope="col">Each node</th>
          </tr>
        </thead>
        <tbody>
          {actions.map((a) => (
            <tr key={a.id}>
              <td>
                <RelativeTime value={a.created_at} />
              </td>
              <td>{label("fleetAction", a.action)}</td>
              <td>{a.model_id}</td>
              <td>
                {a.actor} <span className="muted small">on {a.origin}</span>
              </td>
              <td>
                <ul className="fleet-results">
                  {a.results.map((r) => (
                    <li key={r.node}>
                      {r.node}: <span className={`badge ${STATE_CLASS[r.state]}`}>{label("fleetPart", r.state)}</span>
                      {r.message ? <span className="muted small"> {r.message}</span> : null}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
