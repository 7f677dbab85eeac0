import { useId } from "react";
import { api, scopeOf } from "../../api/endpoints";
import type { Settings } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { ScopeNote } from "../../components/ScopeNote";
import { Loading } from "../../components/Status";
import { TokenForm } from "../../components/TokenForm";
import { useServerEvents } from "../../events/EventsContext";
import { RESYNC } from "../../events/stream";
import { useResource } from "../../hooks/useResource";
import { useScope } from "../../hooks/useScope";
import { FeatureToggles } from "./FeatureToggles";
import { SettingsForm, SettingsValues } from "./SettingsForm";
import "./SettingsView.css";

export function SettingsView() {
  const tokenId = useId();
  const settings = useResource(() => api.settings(), []);
  const { can, whoami } = useScope();
  const canChange = can(scopeOf("patchSettings"));
  // Back after a lost connection: the settings may have been changed meanwhile.
  useServerEvents([RESYNC], () => void settings.reload());
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <div className="settings-layout">
        <div className="panel">
          <ErrorAlert error={settings.error} />
          {settings.loading && !settings.data ? <Loading what="settings" /> : null}
          <ScopeNote what="Changing settings and features" need={scopeOf("patchSettings")} />
          {settings.data && canChange ? (
            <SettingsForm settings={settings.data} onSaved={(s) => settings.setData(() => s)} />
          ) : null}
          {settings.data && !canChange ? <SettingsValues settings={settings.data} /> : null}
        </div>
        <div>
          <section className="panel" aria-labelledby={`${tokenId}-title`}>
            <h2 id={`${tokenId}-title`}>Access</h2>
            <p>
              {whoami?.reads_open === false
                ? "This service listens beyond loopback: reading needs a token too (scope read or higher)."
                : "Reading needs no token; every change (download, pause, remove, settings…) does."}
            </p>
            {whoami?.authenticated ? (
              <p data-testid="token-scope">
                This token: <strong>{whoami.name}</strong>, scope <strong>{whoami.scope}</strong>.
              </p>
            ) : null}
            <TokenForm />
          </section>
          {settings.data ? (
            <FeatureToggles
              settings={settings.data}
              readOnly={!canChange}
              onSaved={(s) => settings.setData(() => s)}
            />
          ) : null}
          {settings.data ? <ReadOnly facts={settings.data.read_only} /> : null}
        </div>
      </div>
    </section>
  );
}

function ReadOnly({ facts }: { facts: Settings["read_only"] }) {
  return (
    <section className="panel" aria-labelledby="facts-title">
      <h2 id="facts-title">This service</h2>
      <p className="muted">Set when the service starts (environment or command line).</p>
      <dl className="facts">
        <dt>Version</dt>
        <dd>{facts.version}</dd>
        <dt>Hub endpoint</dt>
        <dd className="facts__path">{facts.endpoint}</dd>
        <dt>Model store</dt>
        <dd className="facts__path">{facts.cache_dir}</dd>
        <dt>Home</dt>
        <dd className="facts__path">{facts.home}</dd>
      </dl>
    </section>
  );
}
