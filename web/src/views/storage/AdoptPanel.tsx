import { useId, useState, type FormEvent } from "react";
import { api, scopeOf } from "../../api/endpoints";
import { ApiError } from "../../api/errors";
import type { AdoptMode, AdoptReport } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { Notice } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { formatBytes } from "../../format";
import { useAction } from "../../hooks/useAction";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { label, LABELS } from "../../labels";

const LABELS_ADOPT = LABELS.adoptMode;

export const ADOPT_MODES: readonly { value: AdoptMode; label: string }[] = [
  { value: "link", label: LABELS_ADOPT.link },
  { value: "move", label: LABELS_ADOPT.move },
];

/** One sentence on what adopting did and what is left. */
export function adoptSummary(report: AdoptReport): string {
  const adopted = `${formatBytes(report.adopted_bytes)} adopted into ${report.model_id} from ${report.folder}`;
  if (report.complete || report.to_fetch.length === 0) return `${adopted}; the model is complete, nothing is left to fetch.`;
  return `${adopted}; ${report.to_fetch.length} file(s) are still to fetch.`;
}

/**
 * Adopt a folder on the service's machine: its files are checked against the source and
 * the good ones brought into the store (hard link or move, never a copy); a download
 * fetches the rest.
 */
export function AdoptPanel({ onDone }: { onDone: () => void }) {
  const id = useId();
  const catalog = useResource(() => api.models(), []);
  const [path, setPath] = useState("");
  const [modelId, setModelId] = useState("");
  const [mode, setMode] = useState<AdoptMode>("link");
  const [report, setReport] = useState<AdoptReport | null>(null);
  const [notice, setNotice] = useState("");
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const action = useAction();
  const { can } = useScope();
  const models = catalog.data?.data ?? [];
  const chosen = modelId || models[0]?.id || "";

  useServerEvents([RESYNC], () => void catalog.reload());

  const adopt = async (event: FormEvent) => {
    event.preventDefault();
    const folder = path.trim();
    if (!folder || !chosen) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-input",
          message: folder ? "Choose the model the folder holds." : "Give the folder that holds the model's files.",
          hint: "The path is read on the machine the service runs on, not on this browser's.",
          retryable: false,
        }),
      );
      return;
    }
    setInvalid(null);
    setReport(null);
    setNotice("");
    const answer = await action.run("adopt", () => api.adopt(chosen, { path: folder, mode }));
    if (answer) {
      setReport(answer);
      onDone();
    }
  };

  const fetchRest = async () => {
    if (!report) return;
    setNotice("");
    const answer = await action.run("fetch", () => api.download(report.model_id));
    if (answer) setNotice(`Download of the ${report.to_fetch.length} missing file(s) of ${report.model_id} queued.`);
    onDone();
  };

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Adopt a folder</h2>
      <p className="muted">
        Already have a model's files on the service's machine? Each file is checked against the source; the good ones
        join the store without a second copy, the rest can be downloaded.
      </p>
      <ScopeNote what="Adopting a folder" need={scopeOf("adopt")} />
      {can(scopeOf("adopt")) ? (
        <form className="inline-form" aria-label="Adopt a folder" onSubmit={adopt} noValidate>
          <div className="field">
            <label htmlFor={`${id}-path`}>Folder on the service's machine</label>
            <input
              id={`${id}-path`}
              type="text"
              value={path}
              placeholder="/data/models/my-model"
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => setPath(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-model`}>Model</label>
            <select id={`${id}-model`} value={chosen} onChange={(e) => setModelId(e.target.value)}>
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-mode`}>How</label>
            <select id={`${id}-mode`} value={mode} onChange={(e) => setMode(e.target.value as AdoptMode)}>
              {ADOPT_MODES.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={action.busy !== null} aria-busy={action.busy === "adopt" || undefined}>
              Adopt
            </button>
          </div>
        </form>
      ) : null}
      <ErrorAlert error={invalid ?? action.error} onDismiss={invalid ? undefined : action.clearError} />
      {catalog.error ? <ErrorAlert error={catalog.error} /> : null}
      {report ? (
        <div className="adopt-report">
          <p data-testid="adopt-summary">{adoptSummary(report)}</p>
          <div className="table-scroll">
            <table aria-label="Adopted files">
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Size</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {report.files.length === 0 ? (
                  <tr>
                    <td colSpan={4}>The model has no files to adopt.</td>
                  </tr>
                ) : (
                  report.files.map((f) => (
                    <tr key={f.path}>
                      <th scope="row">
                        <code>{f.path}</code>
                      </th>
                      <td>{formatBytes(f.size_bytes)}</td>
                      <td>{label("adoptOutcome", f.outcome)}</td>
                      <td>{f.detail}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {report.to_fetch.length > 0 && can(scopeOf("download")) ? (
            <div className="actions">
              <button
                type="button"
                onClick={() => void fetchRest()}
                disabled={action.busy !== null}
                aria-busy={action.busy === "fetch" || undefined}
              >
                Fetch the rest
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      <Notice>{notice}</Notice>
    </section>
  );
}
