import { useId, useState, type FormEvent } from "react";
import { accessApi, type AuditFilter } from "../../api/access";
import { scopeOf } from "../../api/endpoints";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { EmptyState, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { label } from "../../labels";
import "./AuditView.css";

/** The most entries one page of the log shows. */
const LIMIT = 200;

const OUTCOME_CLASS: Record<string, string> = { ok: "outcome-ok", refused: "outcome-refused", failed: "outcome-failed" };

/** The audit log, or why this token cannot read it (it is asked for only when it may). */
export function AuditView() {
  const { can } = useScope();
  if (can(scopeOf("audit"))) return <AuditLog />;
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <ScopeNote what="Reading the audit log" need={scopeOf("audit")} />
    </section>
  );
}

/** The audit log: who changed what, newest first, filtered by model and action. */
function AuditLog() {
  const id = useId();
  const [model, setModel] = useState("");
  const [action, setAction] = useState("");
  const [filter, setFilter] = useState<AuditFilter>({ limit: LIMIT });
  const log = useResource(() => accessApi.audit(filter), [filter]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ model: model.trim() || undefined, action: action.trim() || undefined, limit: LIMIT });
  };
  const entries = log.data?.data ?? [];

  return (
    <section aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Audit</h1>
      <p>Every change to models and settings, whoever made it (a token, the command line, the scheduler) on whichever node sharing the database. Needs an admin token.</p>
      <form aria-label="Filter the audit log" className="audit-filter" onSubmit={apply}>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <input id={`${id}-model`} value={model} onChange={(e) => setModel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <input id={`${id}-action`} value={action} placeholder="e.g. pause" onChange={(e) => setAction(e.target.value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorAlert error={log.error} />
      {log.loading && !log.data ? <Loading what="the audit log" /> : null}
      {log.data && entries.length === 0 ? <EmptyState>No recorded change matches.</EmptyState> : null}
      {entries.length > 0 ? (
        <div className="table-scroll">
          <table aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Node</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Model</th>
                <th scope="col">Outcome</th>
                <th scope="col">Error code</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td>{e.node ?? "—"}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>{e.model_id ?? "—"}</td>
                  <td className={OUTCOME_CLASS[e.outcome]}>{label("auditOutcome", e.outcome)}</td>
                  <td>{e.error_code ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
