import { render } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { TokenPromptProvider } from "../components/TokenPrompt";
import { EventsProvider } from "../events/EventsContext";
import { fakeFactory } from "./fakes";

function Providers({ children }: { children: ReactNode }) {
  return (
    <EventsProvider factory={fakeFactory}>
      <TokenPromptProvider>{children}</TokenPromptProvider>
    </EventsProvider>
  );
}

/** Renders `ui` inside the app's providers, with a fake event stream; `rerender` keeps them
 * (and the component's state). */
export function renderWithProviders(ui: ReactElement) {
  return render(ui, { wrapper: Providers });
}
