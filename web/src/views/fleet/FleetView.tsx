import { useEffect, useId } from "react";
import { api } from "../../api/endpoints";
import type { Fleet, FleetCell, FleetNode } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { RelativeTime } from "../../components/RelativeTime";
import { Loading, Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { formatBytes, formatNumber, shortVersion } from "../../format";
import { useResource } from "../../hooks/useResource";
import { label } from "../../labels";
import { FLEET_REFRESH_MS, FleetActionPanel } from "./FleetActionPanel";
import "./FleetView.css";

const LOCAL_EVENTS = ["model.state", "download.state", "update.applied", "model.removed"] as const;

/** Every node of the fleet and the models on each; a form asks the fleet to act. */
export function FleetView() {
  const id = useId();
  const fleet = useResource(() => api.fleet(), []);
  const { reload } = fleet;
  useServerEvents(LOCAL_EVENTS, reload);
  useEffect(() => {
    const timer = window.setInterval(() => void reload(), FLEET_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  return (
    <section aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Fleet</h1>
      <ErrorAlert error={fleet.error} />
      {fleet.loading && !fleet.data ? <Loading what="the fleet" /> : null}
      {fleet.data ? <FleetTables fleet={fleet.data} /> : null}
      {fleet.data ? <FleetActionPanel fleet={fleet.data} /> : null}
    </section>
  );
}

function FleetTables({ fleet }: { fleet: Fleet }) {
  const online = fleet.nodes.filter((n) => n.online).length;
  return (
    <>
      <p>
        {fleet.nodes.length} node{fleet.nodes.length === 1 ? "" : "s"}, {online} online; this is{" "}
        <strong>{fleet.this_node}</strong>. A node is offline after {formatNumber(fleet.offline_after_s)} s without a heartbeat.
      </p>
      {fleet.note ? <p className="muted">{fleet.note}</p> : null}
      <NodesTable nodes={fleet.nodes} />
      <ModelsMatrix fleet={fleet} />
    </>
  );
}

function NodesTable({ nodes }: { nodes: FleetNode[] }) {
  return (
    <div className="panel">
      <h2>Nodes</h2>
      <div className="table-scroll">
        <table aria-label="Nodes">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Address</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
              <th scope="col">Free disk</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.name} className={node.online ? undefined : "fleet-offline"}>
                <th scope="row">
                  {node.name}
                  {node.this_node ? <span className="muted small"> (this node)</span> : null}
                </th>
                <td>{node.address ?? "—"}</td>
                <td>{node.version}</td>
                <td>
                  {node.online ? null : <span className="badge badge--failed">Offline</span>} <RelativeTime value={node.last_seen} />
                </td>
                <td>{node.free_bytes == null ? "—" : formatBytes(node.free_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Models down, nodes across: the version, state and marks of each model on each node. */
function ModelsMatrix({ fleet }: { fleet: Fleet }) {
  const shown = fleet.models.filter((m) => m.nodes.some((c) => c.state !== "missing"));
  if (shown.length === 0) return <Notice>No node holds a model yet.</Notice>;
  return (
    <div className="panel">
      <h2>Models on each node</h2>
      <div className="table-scroll">
        <table aria-label="Models on each node" className="fleet-matrix">
          <thead>
            <tr>
              <th scope="col">Model</th>
              {fleet.nodes.map((n) => (
                <th scope="col" key={n.name}>
                  {n.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((model) => (
              <tr key={model.model_id}>
                <th scope="row">
                  {model.model_id}
                  <div className="muted small">newest {shortVersion(model.newest_commit)}</div>
                </th>
                {fleet.nodes.map((n) => (
                  <td key={n.name}>
                    <Cell cell={model.nodes.find((c) => c.node === n.name)} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Cell({ cell }: { cell: FleetCell | undefined }) {
  if (!cell) return <span className="muted">not in its catalog</span>;
  const moving = cell.state === "downloading" || cell.state === "queued" || cell.state === "paused";
  return (
    <div className="fleet-cell">
      <span className={`badge badge--${cell.state}`}>{label("availability", cell.state)}</span>
      {moving && cell.progress != null ? <span> {formatNumber(cell.progress, 0)}%</span> : null}
      {cell.commit ? <code className="fleet-commit">{shortVersion(cell.commit)}</code> : null}
      <span className="fleet-marks">
        {cell.behind ? <span className="badge badge--warning">Behind</span> : null}
        {cell.healthy === false ? <span className="badge badge--corrupted">Unhealthy</span> : null}
        {cell.offline ? <span className="badge badge--failed">Offline</span> : null}
      </span>
    </div>
  );
}
