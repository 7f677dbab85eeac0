import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { mockFetch } from "./test/fakes";
import { settings, storage } from "./test/fixtures";
import { fakeFactory } from "./test/fakes";

describe("App", () => {
  it("has one nav link per view and routes by path", async () => {
    mockFetch({
      "GET /api/v1/models": { data: [], count: 0 },
      "GET /api/v1/models/status": { data: [], count: 0 },
      "GET /api/v1/storage": storage(),
      "GET /api/v1/queue": { data: [], count: 0 },
      "GET /api/v1/settings": settings(),
    });
    const user = userEvent.setup();
    render(<App eventSourceFactory={fakeFactory} />);
    const nav = screen.getByRole("navigation", { name: "Main" });
    const links = Array.from(nav.querySelectorAll("a")).map((a) => [a.textContent, a.getAttribute("href")]);
    expect(links).toEqual([
      ["Models", "/"],
      ["Downloads", "/downloads"],
      ["Health", "/health"],
      ["Analytics", "/analytics"],
      ["Storage", "/storage"],
      ["Requests", "/requests"],
      ["Fleet", "/fleet"],
      ["Settings", "/settings"],
      ["Audit", "/audit"],
    ]);
    expect(screen.getByRole("heading", { level: 1, name: "Models" })).toBeInTheDocument();
    expect(await screen.findByText(/The catalog has no models/)).toBeInTheDocument();

    await user.click(screen.getByRole("link", { name: "Settings" }));
    expect(window.location.pathname).toBe("/settings");
    expect(screen.getByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
    await waitFor(() => expect(screen.getByLabelText("Automation")).toBeInTheDocument());

    window.history.back();
    await waitFor(() => expect(screen.getByRole("heading", { level: 1, name: "Models" })).toBeInTheDocument());
  });
});
