import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { TOKEN_STORAGE_KEY } from "../../api/token";
import { resetScope } from "../../hooks/useScope";
import { mockFetch } from "../../test/fakes";
import { status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { ModelCard } from "./ModelCard";

const names = () =>
  within(screen.getByRole("article", { name: "model m1" }))
    .queryAllByRole("button")
    .map((b) => b.textContent);

describe("ModelActions and the token's scope", () => {
  afterEach(() => {
    resetScope();
    window.sessionStorage.clear();
  });

  it("hides the actions an operate token cannot use", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "ops-token");
    mockFetch({ "GET /api/v1/whoami": { name: "ops", scope: "operate", authenticated: true, reads_open: true } });
    renderWithProviders(
      <ModelCard status={status("m1", { availability_status: "available", is_available: true, present_bytes: 10 })} pinned={false} onChanged={() => {}} />,
    );
    await waitFor(() => expect(names()).toEqual(["Verify", "Pin"]));
  });

  it("hides every change from a read token", async () => {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "reader");
    mockFetch({ "GET /api/v1/whoami": { name: "r", scope: "read", authenticated: true, reads_open: true } });
    renderWithProviders(
      <ModelCard
        status={status("m1", { availability_status: "downloading", present_bytes: 10, can_pause_download: true })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    await waitFor(() => expect(names()).toEqual([]));
    expect(screen.queryByLabelText("Priority")).toBeNull();
  });
});
