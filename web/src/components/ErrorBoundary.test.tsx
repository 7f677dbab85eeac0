import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ErrorBoundary } from "./ErrorBoundary";

let broken = false;
function Fragile() {
  if (broken) throw new Error("cannot read the model list");
  return <p>All fine</p>;
}

describe("ErrorBoundary", () => {
  it("shows a readable message and reloads the view on request", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    broken = true;
    const user = userEvent.setup();
    render(
      <>
        <p>Outside</p>
        <ErrorBoundary label="Models">
          <Fragile />
        </ErrorBoundary>
      </>,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Models could not be shown");
    expect(alert).toHaveTextContent("cannot read the model list");
    expect(screen.getByText("Outside")).toBeInTheDocument(); // the rest of the page stays

    broken = false; // whatever went wrong is over
    await user.click(screen.getByRole("button", { name: "Reload this view" }));
    expect(screen.getByText("All fine")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
