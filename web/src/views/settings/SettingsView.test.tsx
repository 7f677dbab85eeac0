import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/token";
import { apiError, FakeEventSource, mockFetch, reconnectStream, type Call } from "../../test/fakes";
import { settings } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { SettingsView } from "./SettingsView";

describe("SettingsView", () => {
  it("PATCHes only the fields that changed", async () => {
    setToken("t");
    const api = mockFetch({
      "GET /api/v1/settings": settings(),
      "PATCH /api/v1/settings": (c: Call) => settings(c.body as never),
    });
    const user = userEvent.setup();
    renderWithProviders(<SettingsView />);
    const automation = await screen.findByLabelText("Automation");
    expect(automation).toHaveValue("ask");
    expect(screen.getByLabelText("Health-check interval (hours)")).toHaveValue(24);
    expect(screen.getByText("http://127.0.0.1:8330")).toBeInTheDocument();

    await user.selectOptions(automation, "auto");
    await user.type(screen.getByLabelText("VRAM (GB)"), "24");
    const interval = screen.getByLabelText("Update-check interval (hours)");
    await user.clear(interval);
    await user.type(interval, "12");
    await user.click(screen.getByRole("button", { name: "Save settings" }));

    await waitFor(() => expect(api.find("PATCH", "/api/v1/settings")).toHaveLength(1));
    expect(api.find("PATCH", "/api/v1/settings")[0].body).toEqual({
      automation: "auto",
      update_check_interval_s: 43200,
      vram_gb: 24,
    });
    expect(await screen.findByText("Saved 3 setting(s).")).toBeInTheDocument();

    // Saving again with nothing changed sends nothing.
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Nothing changed.")).toBeInTheDocument();
    expect(api.find("PATCH", "/api/v1/settings")).toHaveLength(1);
  });

  it("shows why the settings could not be loaded", async () => {
    mockFetch({ "GET /api/v1/settings": apiError(404, "not-found", "no route api/v1/settings", "See /docs for the API's routes.") });
    renderWithProviders(<SettingsView />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("no route api/v1/settings");
    expect(alert).toHaveTextContent("See /docs for the API's routes.");
    // The token can still be saved.
    expect(screen.getByLabelText("API token")).toBeInTheDocument();
  });

  it("loads the settings again after a reconnect, keeping what the person is editing", async () => {
    let current = settings();
    const api = mockFetch({ "GET /api/v1/settings": () => current });
    const user = userEvent.setup();
    renderWithProviders(<SettingsView />);
    expect(await screen.findByLabelText("Automation")).toHaveValue("ask");
    act(() => FakeEventSource.latest.open());
    await user.type(screen.getByLabelText("VRAM (GB)"), "16");

    current = settings({ automation: "auto", vram_gb: 80 });
    act(() => reconnectStream());
    await waitFor(() => expect(api.find("GET", "/api/v1/settings")).toHaveLength(2));
    await waitFor(() => expect(screen.getByLabelText("Automation")).toHaveValue("auto"));
    expect(screen.getByLabelText("VRAM (GB)")).toHaveValue(16);
  });
});
