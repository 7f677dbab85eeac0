import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { TokenPromptProvider } from "../components/TokenPrompt";
import { EventsProvider } from "../events/EventsContext";
import { fakeFactory } from "./fakes";

/** Renders `ui` inside the app's providers, with a fake event stream. */
export function renderWithProviders(ui: ReactElement) {
  return render(
    <EventsProvider factory={fakeFactory}>
      <TokenPromptProvider>{ui}</TokenPromptProvider>
    </EventsProvider>,
  );
}
