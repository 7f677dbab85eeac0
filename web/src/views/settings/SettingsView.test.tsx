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

  it("switches a feature at once, with what it does on and off", async () => {
    setToken("t");
    let current = settings();
    const api = mockFetch({
      "GET /api/v1/settings": () => current,
      "PATCH /api/v1/settings": (c: Call) => {
        const change = (c.body as { features: Partial<typeof current.features> }).features;
        current = settings({ features: { ...current.features, ...change } });
        return current;
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<SettingsView />);
    const toggles = await screen.findAllByRole("switch");
    expect(toggles).toHaveLength(10);
    const retries = screen.getByRole("switch", { name: "Retries" });
    expect(retries).toBeChecked();
    expect(retries).toHaveAccessibleDescription("A failed transfer is tried again, with growing pauses.");

    await user.click(retries);
    await waitFor(() => expect(api.find("PATCH", "/api/v1/settings")).toHaveLength(1));
    expect(api.find("PATCH", "/api/v1/settings")[0].body).toEqual({ features: { retries: false } });
    await waitFor(() => expect(screen.getByRole("switch", { name: "Retries" })).not.toBeChecked());
    expect(screen.getByRole("switch", { name: "Retries" })).toHaveAccessibleDescription(
      "Off: Each file gets one attempt.",
    );
    // The rest of the form is untouched: its Save has nothing to send.
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Nothing changed.")).toBeInTheDocument();
    expect(api.find("PATCH", "/api/v1/settings")).toHaveLength(1);
  });

  it("keeps a feature as it was when the change is refused", async () => {
    setToken("t");
    mockFetch({
      "GET /api/v1/settings": settings(),
      "PATCH /api/v1/settings": apiError(403, "forbidden", "this token may not change settings", "Use an admin token."),
    });
    const user = userEvent.setup();
    renderWithProviders(<SettingsView />);
    const mock = await screen.findByRole("switch", { name: "Mock fallback" });
    await user.click(mock);
    expect(await screen.findByRole("alert")).toHaveTextContent("this token may not change settings");
    expect(screen.getByRole("switch", { name: "Mock fallback" })).toBeChecked();
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
