import type { CleanupResult } from "../../api/types";
import { formatBytes } from "../../format";

/** What a cleanup would do (or did): each model, its size, the decision and why. */
export function CleanupPlanTable({ plan }: { plan: CleanupResult }) {
  const rows = [
    ...plan.removed.map((c) => ({ ...c, decision: plan.dry_run ? "Remove" : "Removed" })),
    ...plan.kept.map((c) => ({ ...c, decision: "Keep" })),
  ];
  return (
    <div className="table-scroll">
      <table aria-label="Cleanup plan">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Size</th>
            <th scope="col">Decision</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={4}>No model on disk to decide about.</td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={`${row.decision}-${row.model_id}`}>
                <th scope="row">{row.model_id}</th>
                <td>{formatBytes(row.size_bytes)}</td>
                <td>
                  <span className={`badge badge--${row.decision.toLowerCase()}`}>{row.decision}</span>
                </td>
                <td>{row.reason}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
