import { api } from "../../api/endpoints";
import type { Storage } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, Loading } from "../../components/Status";
import { useServerEvents } from "../../events/EventsContext";
import { RelativeTime } from "../../components/RelativeTime";
import { formatBytes, formatNumber } from "../../format";
import { useDebouncedCallback } from "../../hooks/useDebouncedCallback";
import { useResource } from "../../hooks/useResource";
import { label } from "../../labels";
import { PathText } from "../../components/PathText";
import { AdoptPanel } from "./AdoptPanel";
import { CleanupPanel } from "./CleanupPanel";
import "./StorageView.css";

const STORAGE_EVENTS = ["storage.low", "model.removed", "model.pinned", "model.state", "update.settled"];

export function StorageView() {
  const storage = useResource(() => api.storage(), []);
  const reload = useDebouncedCallback(() => void storage.reload(), 500);
  useServerEvents(STORAGE_EVENTS, reload);
  return (
    <section aria-labelledby="storage-title">
      <h1 id="storage-title">Storage</h1>
      <ErrorAlert error={storage.error} />
      {storage.loading && !storage.data ? <Loading what="disk usage" /> : null}
      {storage.data ? <Disk storage={storage.data} /> : null}
      <CleanupPanel onDone={() => void storage.reload()} />
      <AdoptPanel onDone={() => void storage.reload()} />
    </section>
  );
}

function Disk({ storage }: { storage: Storage }) {
  // The service computes the figure once (as df's Use%); Health shows the same one.
  const usedPercent = storage.used_percent;
  const models = [...storage.models].sort((a, b) => b.bytes_on_disk - a.bytes_on_disk);
  return (
    <>
      <section className="panel" aria-labelledby="disk-title">
        <h2 id="disk-title">Disk</h2>
        <p>
          <strong>{formatBytes(storage.free_bytes)}</strong> free of {formatBytes(storage.total_bytes)} (
          <span data-testid="disk-used">{usedPercent.toFixed(1)}% used</span>) at <PathText path={storage.path} name="cache folder" />
        </p>
        <div className="disk-bar" aria-hidden="true">
          <div className="disk-bar__used" style={{ width: `${Math.min(100, usedPercent)}%` }} />
        </div>
        <div className={storage.low ? "storage-message storage-message--low" : "storage-message"}>
          {storage.low ? <strong>Low on space. </strong> : null}
          {storage.message}
          <span className="muted"> (warning below {formatBytes(storage.low_space_bytes)} free)</span>
        </div>
      </section>

      <section className="panel" aria-labelledby="per-model-title">
        <h2 id="per-model-title">Models on disk</h2>
        {models.length === 0 ? (
          <EmptyState>No model is on disk yet. Download one from the Models page.</EmptyState>
        ) : (
          <div className="table-scroll">
            <table aria-labelledby="per-model-title">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">On disk</th>
                  <th scope="col">State</th>
                  <th scope="col">Pinned</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={m.model_id}>
                    <th scope="row">{m.model_id}</th>
                    <td>{formatBytes(m.bytes_on_disk)}</td>
                    <td>{label("availability", m.state)}</td>
                    <td>{m.pinned ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="panel" aria-labelledby="unused-title">
        <h2 id="unused-title">Unused models</h2>
        {storage.unused.length === 0 ? (
          <EmptyState>Every model on disk was used recently; nothing to suggest removing.</EmptyState>
        ) : (
          <div className="table-scroll">
            <table aria-labelledby="unused-title">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Size</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Uses/day</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {storage.unused.map((c) => (
                  <tr key={c.model_id}>
                    <th scope="row">{c.model_id}</th>
                    <td>{formatBytes(c.size_bytes)}</td>
                    <td>
                      <RelativeTime value={c.last_used} />
                    </td>
                    <td>{formatNumber(c.uses_per_day, 2)}</td>
                    <td>{c.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {storage.suggestions.removed.length > 0 ? (
          <p>
            Recommendation: {storage.suggestions.message} Removing{" "}
            {storage.suggestions.removed.map((c) => c.model_id).join(", ")} would free{" "}
            {formatBytes(storage.suggestions.freed_bytes)}. Preview it below.
          </p>
        ) : null}
      </section>
    </>
  );
}
