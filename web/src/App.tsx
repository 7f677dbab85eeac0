import { useEffect, useRef, type ReactNode } from "react";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Nav, ROUTES } from "./components/Nav";
import { TokenPromptProvider } from "./components/TokenPrompt";
import { EventsProvider } from "./events/EventsContext";
import type { EventSourceFactory } from "./events/stream";
import { defaultFactory } from "./events/stream";
import { Link, usePath } from "./router/router";
import { AnalyticsView } from "./views/analytics/AnalyticsView";
import { AuditView } from "./views/audit/AuditView";
import { DownloadsView } from "./views/downloads/DownloadsView";
import { FleetView } from "./views/fleet/FleetView";
import { HealthView } from "./views/health/HealthView";
import { ModelsView } from "./views/models/ModelsView";
import { RequestsView } from "./views/requests/RequestsView";
import { SettingsView } from "./views/settings/SettingsView";
import { StorageView } from "./views/storage/StorageView";

const VIEWS: Record<string, () => ReactNode> = {
  "/": () => <ModelsView />,
  "/downloads": () => <DownloadsView />,
  "/health": () => <HealthView />,
  "/analytics": () => <AnalyticsView />,
  "/storage": () => <StorageView />,
  "/requests": () => <RequestsView />,
  "/fleet": () => <FleetView />,
  "/settings": () => <SettingsView />,
  "/audit": () => <AuditView />,
};

function NotFound() {
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        There is no page here. Go to <Link to="/">Models</Link>.
      </p>
    </section>
  );
}

interface AppProps {
  eventSourceFactory?: EventSourceFactory | null;
}

/** The dashboard; a crash anywhere shows a message and "Reload this view", never a blank page. */
export function App(props: AppProps) {
  return (
    <ErrorBoundary label="The dashboard">
      <Shell {...props} />
    </ErrorBoundary>
  );
}

function Shell({ eventSourceFactory = defaultFactory }: AppProps) {
  const path = usePath();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const view = VIEWS[path];
  const label = ROUTES.find((r) => r.path === path)?.label ?? "Not found";

  useEffect(() => {
    document.title = `${label} · modelward`;
    // After a client-side navigation, move focus to the new page so keyboard and screen
    // reader users land on it.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [label]);

  return (
    <EventsProvider factory={eventSourceFactory}>
      <TokenPromptProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="app-header">
          <span className="brand">modelward</span>
          <Nav path={path} />
          <ConnectionStatus />
        </header>
        <main id="main" ref={main} tabIndex={-1} className="app-main">
          {/* One boundary per view, new for each path: a crash in one view leaves the rest usable. */}
          <ErrorBoundary key={path} label={label}>
            {view ? view() : <NotFound />}
          </ErrorBoundary>
        </main>
      </TokenPromptProvider>
    </EventsProvider>
  );
}
