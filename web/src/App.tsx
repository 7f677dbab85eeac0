import { useEffect, useRef, type ReactNode } from "react";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { Nav, ROUTES } from "./components/Nav";
import { TokenPromptProvider } from "./components/TokenPrompt";
import { EventsProvider } from "./events/EventsContext";
import type { EventSourceFactory } from "./events/stream";
import { defaultFactory } from "./events/stream";
import { Link, usePath } from "./router/router";
import { AnalyticsView } from "./views/analytics/AnalyticsView";
import { DownloadsView } from "./views/downloads/DownloadsView";
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
  "/settings": () => <SettingsView />,
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

export function App({ eventSourceFactory = defaultFactory }: { eventSourceFactory?: EventSourceFactory | null }) {
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
          {view ? view() : <NotFound />}
        </main>
      </TokenPromptProvider>
    </EventsProvider>
  );
}
