import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKEN_STORAGE_KEY } from "../../api/token";
import { apiError, mockFetch } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { AuditView } from "./AuditView";

const ENTRY = {
  id: 7,
  at: "2026-12-05T09:00:00Z",
  actor: "cli:ana",
  action: "pause",
  outcome: "refused",
  model_id: "m1",
  params: {},
  token: "service",
  status: 403,
  error_code: "forbidden",
};

describe("AuditView", () => {
  beforeEach(() => window.sessionStorage.setItem(TOKEN_STORAGE_KEY, "secret"));
  afterEach(() => window.sessionStorage.clear());

  it("lists the records with the token and filters by model and action", async () => {
    const api = mockFetch({ "GET /api/v1/audit": { data: [ENTRY], count: 1 } });
    const user = userEvent.setup();
    renderWithProviders(<AuditView />);
    const table = await screen.findByRole("table", { name: "Audit log" });
    const row = within(table).getAllByRole("row")[1];
    for (const text of ["cli:ana", "pause", "m1", "Refused", "forbidden"]) expect(within(row).getByText(text)).toBeInTheDocument();
    expect(api.calls[0].headers.Authorization).toBe("Bearer secret");

    await user.type(screen.getByLabelText("Model"), "m1");
    await user.type(screen.getByLabelText("Action"), "pause");
    await user.click(screen.getByRole("button", { name: "Filter" }));
    const last = api.find("GET", "/api/v1/audit").at(-1)!;
    expect(last.query.get("model")).toBe("m1");
    expect(last.query.get("action")).toBe("pause");
  });

  it("says why when the token is not an admin one", async () => {
    mockFetch({ "GET /api/v1/audit": apiError(403, "forbidden", "the token 'ops' has scope operate; this needs admin") });
    renderWithProviders(<AuditView />);
    expect(await screen.findByText(/this needs admin/)).toBeInTheDocument();
  });
});
