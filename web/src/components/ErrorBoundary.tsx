import { Component, Fragment, type ErrorInfo, type ReactNode } from "react";
import "./ErrorAlert.css";

interface Props {
  /** What failed, for the message: "Models", "The dashboard". */
  label: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
  /** Bumped by "Reload this view" so the children mount afresh. */
  attempt: number;
}

/** A crash while drawing a view shows as a message with a way back, not a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null, attempt: 0 };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(`${this.props.label} failed to render`, error, info.componentStack);
  }

  private reload = () => this.setState((s) => ({ error: null, attempt: s.attempt + 1 }));

  render() {
    const { error, attempt } = this.state;
    if (!error) return <Fragment key={attempt}>{this.props.children}</Fragment>;
    return (
      <section className="error-alert view-error" role="alert" aria-labelledby={`view-error-${attempt}`}>
        <h1 id={`view-error-${attempt}`} className="error-alert__message">
          {this.props.label} could not be shown
        </h1>
        <p>The dashboard hit a problem while drawing it: {error.message || "an unknown error"}.</p>
        <p className="error-alert__hint">
          Reload this view to try again. If it keeps failing, reload the page and check that the service&apos;s version
          matches this dashboard.
        </p>
        <button type="button" className="primary" onClick={this.reload}>
          Reload this view
        </button>
      </section>
    );
  }
}
