import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import { apiError, mockFetch } from "../../test/fakes";
import { status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { ModelCard } from "./ModelCard";

const OLD = "a".repeat(8) + "0123456789abcdef" + "b".repeat(16);
const SERVED = "c".repeat(40);
const ready = status("m1", { availability_status: "available", is_available: true, present_bytes: 10 });
const card = () => screen.getByRole("article", { name: "model m1" });
const removePrevious = () => within(card()).queryByRole("button", { name: "Remove previous version" });

describe("Remove previous version", () => {
  it("is offered only when a previous version is kept apart from the served one", () => {
    mockFetch({});
    const { rerender } = renderWithProviders(
      <ModelCard status={ready} pinned={false} previousVersion={null} servedVersion={SERVED} onChanged={() => {}} />,
    );
    expect(removePrevious()).not.toBeInTheDocument();
    rerender(<ModelCard status={ready} pinned={false} previousVersion={SERVED} servedVersion={SERVED} onChanged={() => {}} />);
    expect(removePrevious()).not.toBeInTheDocument();
    rerender(<ModelCard status={ready} pinned={false} previousVersion={OLD} servedVersion={SERVED} onChanged={() => {}} />);
    expect(removePrevious()).toBeInTheDocument();
  });

  it("asks naming the commit, then deletes it with the token and shows the space freed", async () => {
    setToken("secret");
    const api = mockFetch({
      "DELETE /api/v1/models/m1/versions/previous": { model_id: "m1", freed_bytes: 3_000_000_000 },
    });
    const onChanged = vi.fn();
    const onVersionsChanged = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(
      <ModelCard
        status={ready}
        pinned={false}
        previousVersion={OLD}
        servedVersion={SERVED}
        onChanged={onChanged}
        onVersionsChanged={onVersionsChanged}
      />,
    );

    await user.click(removePrevious()!);
    let dialog = screen.getByRole("dialog");
    expect(dialog).toHaveTextContent(OLD.slice(0, 12));
    expect(dialog).not.toHaveTextContent(OLD.slice(0, 13));
    await user.click(within(dialog).getByRole("button", { name: "Keep" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(api.find("DELETE", "/api/v1/models/m1/versions/previous")).toHaveLength(0);

    await user.click(removePrevious()!);
    dialog = screen.getByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(api.find("DELETE", "/api/v1/models/m1/versions/previous")).toHaveLength(1));
    expect(api.find("DELETE", "/api/v1/models/m1/versions/previous")[0].headers.Authorization).toBe("Bearer secret");
    expect(await within(card()).findByText(/3\.00 GB freed/)).toBeInTheDocument();
    expect(onChanged).toHaveBeenCalledWith("m1");
    expect(onVersionsChanged).toHaveBeenCalledWith("m1");
  });

  it("shows the API's message and hint when it fails", async () => {
    setToken("t");
    mockFetch({
      "DELETE /api/v1/models/m1/versions/previous": apiError(
        409,
        "update-busy",
        "m1 is being updated.",
        "Wait for the update to finish, then try again.",
      ),
    });
    const user = userEvent.setup();
    renderWithProviders(
      <ModelCard status={ready} pinned={false} previousVersion={OLD} servedVersion={SERVED} onChanged={() => {}} />,
    );
    await user.click(removePrevious()!);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Confirm" }));
    const alert = await within(card()).findByRole("alert");
    expect(alert).toHaveTextContent("m1 is being updated.");
    expect(alert).toHaveTextContent("Wait for the update to finish, then try again.");
  });
});
