import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { fakeFactory, mockFetch } from "./test/fakes";
import { settings } from "./test/fixtures";

// The Models view crashes while drawing; the other views must stay usable.
vi.mock("./views/models/ModelsView", () => ({
  ModelsView: () => {
    throw new Error("boom in Models");
  },
}));

describe("App error boundaries", () => {
  it("shows a crashed view's message, with the navigation still working", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    mockFetch({ "GET /api/v1/settings": settings() });
    const user = userEvent.setup();
    render(<App eventSourceFactory={fakeFactory} />);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Models could not be shown");
    expect(alert).toHaveTextContent("boom in Models");
    expect(screen.getByRole("button", { name: "Reload this view" })).toBeInTheDocument();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();

    await user.click(screen.getByRole("link", { name: "Settings" }));
    expect(screen.getByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText("Automation")).toBeInTheDocument());
    expect(screen.queryByText(/could not be shown/)).not.toBeInTheDocument();
  });
});
