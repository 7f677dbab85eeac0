import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/token";
import { apiError, mockFetch, type Call } from "../../test/fakes";
import { model, status } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { ModelCard } from "./ModelCard";

function card(id: string) {
  return screen.getByRole("article", { name: `model ${id}` });
}

function buttonNames(el: HTMLElement) {
  return within(el)
    .queryAllByRole("button")
    .map((b) => b.textContent);
}

describe("ModelCard", () => {
  it("shows the state and only the actions that fit it", () => {
    mockFetch({});
    const { rerender } = renderWithProviders(
      <ModelCard
        status={status("m1", { availability_status: "downloading", present_bytes: 10, can_pause_download: true })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    expect(within(card("m1")).getByTestId("state")).toHaveTextContent("Downloading");
    expect(buttonNames(card("m1"))).toEqual(["Pause", "Cancel", "Pin"]);
    expect(within(card("m1")).getByLabelText("Priority")).toBeInTheDocument();

    rerender(
      <ModelCard
        status={status("m1", { availability_status: "available", is_available: true, present_bytes: 10, update_available: true })}
        pinned
        previousVersion="abc"
        onChanged={() => {}}
      />,
    );
    expect(within(card("m1")).getByTestId("state")).toHaveTextContent("Available");
    expect(within(card("m1")).getByText("Update available")).toBeInTheDocument();
    expect(buttonNames(card("m1"))).toEqual(["Verify", "Update", "Rollback", "Unpin", "Remove previous version"]);
    expect(card("m1")).toHaveTextContent("Pinned models cannot be removed: Unpin it first to remove it.");
  });

  it("is named model {id}, labelled by its heading when the heading shows the id", () => {
    mockFetch({});
    const { rerender } = renderWithProviders(<ModelCard status={status("m1")} pinned={false} onChanged={() => {}} />);
    const heading = screen.getByRole("heading", { name: "m1" });
    expect(card("m1").getAttribute("aria-labelledby")).toContain(heading.id);
    rerender(<ModelCard status={status("m1")} model={model("m1", { display_name: "Model One" })} pinned={false} onChanged={() => {}} />);
    expect(screen.getByRole("heading", { name: "Model One" })).toBeInTheDocument();
    expect(card("m1")).toHaveAttribute("aria-label", "model m1");
  });

  it("shows integrity only for what was checked: — with nothing on disk, not checked, then the score", () => {
    mockFetch({});
    const onDisk = { availability_status: "available", is_available: true, present_bytes: 10 } as const;
    const { rerender } = renderWithProviders(<ModelCard status={status("m1")} pinned={false} onChanged={() => {}} />);
    expect(within(card("m1")).getByTestId("integrity")).toHaveTextContent(/^—$/);
    rerender(<ModelCard status={status("m1", { ...onDisk, integrity_score: null })} pinned={false} onChanged={() => {}} />);
    expect(within(card("m1")).getByTestId("integrity")).toHaveTextContent(/^not checked$/);
    // A verified pull counts as a check: the service sets the time.
    const justNow = new Date(Date.now() - 1000).toISOString();
    rerender(
      <ModelCard
        status={status("m1", { ...onDisk, integrity_score: 1, last_health_check: justNow })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    expect(within(card("m1")).getByTestId("integrity")).toHaveTextContent("100% intact · checked just now");
    // Files verified on arrival by another model's pull (shared blobs): never "checked never".
    rerender(<ModelCard status={status("m1", { ...onDisk, integrity_score: 1 })} pinned={false} onChanged={() => {}} />);
    expect(within(card("m1")).getByTestId("integrity")).toHaveTextContent("100% intact · checked when its files arrived");
  });

  it("shows a damaged file as damaged, apart from missing ones, keeping the path and version", () => {
    mockFetch({});
    const path = "/home/someone/.cache/huggingface/hub/models--Org--m1/snapshots/0123456789abcdef0123456789abcdef01234567";
    renderWithProviders(
      <ModelCard
        status={status("m1", {
          availability_status: "corrupted",
          present_bytes: 10,
          corruption_detected: true,
          integrity_score: 0.5,
          last_health_check: new Date().toISOString(),
          damaged_files: ["transformer/diffusion_pytorch_model-00001-of-00003.safetensors"],
          missing_files: ["vae/config.json", "vae/diffusion_pytorch_model.safetensors"],
          local_path: path,
          current_version: "0123456789abcdef0123456789abcdef01234567",
        })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    const el = card("m1");
    expect(within(el).getByTestId("state")).toHaveTextContent("Damaged");
    expect(within(el).getByTestId("state")).toHaveAttribute("data-state", "corrupted");
    expect(within(el).getByTestId("integrity")).toHaveTextContent("50% intact · checked just now · 1 damaged, 2 missing");
    expect(within(el).getByText("1 damaged file")).toBeInTheDocument();
    expect(within(el).getByText("2 missing files")).toBeInTheDocument();
    expect(el).toHaveTextContent("transformer/diffusion_pytorch_model-00001-of-00003.safetensors");
    expect(el).toHaveTextContent("0123456789");
    const shown = within(el).getByTestId("local-path");
    expect(shown).toHaveAttribute("title", path);
    expect(shown.querySelector("[aria-hidden]")?.textContent).toMatch(/^\/home\/some.*….*01234567$/);
  });

  it("shortens a long local path in the middle and copies the whole path", async () => {
    mockFetch({});
    const user = userEvent.setup();
    const path = "/very/long/cache/directory/of/this/machine/models--Org--m1/snapshots/abc123";
    renderWithProviders(
      <ModelCard
        status={status("m1", { availability_status: "available", is_available: true, present_bytes: 10, local_path: path })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    const shown = within(card("m1")).getByTestId("local-path");
    expect(shown.querySelector("[aria-hidden]")?.textContent).toHaveLength(34);
    expect(shown.querySelector("[aria-hidden]")?.textContent).toContain("…");
    await user.click(within(card("m1")).getByRole("button", { name: "Copy local path of m1" }));
    expect(await navigator.clipboard.readText()).toBe(path);
    expect(within(card("m1")).getByRole("button", { name: "Copy local path of m1" })).toHaveTextContent("Copied");
  });

  it("moves focus to the card's heading when the clicked button goes away", async () => {
    setToken("t");
    mockFetch({ "POST /api/v1/models/m1/download": { status: 202, body: { model_id: "m1", status: "queued" } } });
    const user = userEvent.setup();
    const { rerender } = renderWithProviders(<ModelCard status={status("m1")} pinned={false} onChanged={() => {}} />);
    const download = within(card("m1")).getByRole("button", { name: "Download" });
    download.focus();
    await user.keyboard("{Enter}");
    const heading = within(card("m1")).getByRole("heading", { name: "m1" });
    // Disabled while its request runs: focus goes to the heading, not to the page.
    await waitFor(() => expect(heading).toHaveFocus());
    await waitFor(() => expect(within(card("m1")).getByRole("button", { name: "Download" })).toBeEnabled());

    // Focus back on Download; the status moves on and the button is replaced by Pause.
    within(card("m1")).getByRole("button", { name: "Download" }).focus();
    await user.keyboard("{Enter}");
    await waitFor(() => expect(heading).toHaveFocus());
    rerender(
      <ModelCard
        status={status("m1", { availability_status: "downloading", can_pause_download: true })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    expect(within(card("m1")).queryByRole("button", { name: "Download" })).not.toBeInTheDocument();
    expect(heading).toHaveFocus();
  });

  it("calls the route of each action, with the token", async () => {
    setToken("secret");
    const api = mockFetch({
      "POST /api/v1/models/m1/pause": { model_id: "m1", action: "pause", changed: true },
      "POST /api/v1/models/m1/repair": { status: 202, body: { model_id: "m1", status_url: "/x", status: "repairing" } },
      "PUT /api/v1/models/m1/priority": { model_id: "m1", priority: "high" },
    });
    const onChanged = vi.fn();
    const user = userEvent.setup();
    const { rerender } = renderWithProviders(
      <ModelCard
        status={status("m1", { availability_status: "downloading", can_pause_download: true })}
        pinned={false}
        onChanged={onChanged}
      />,
    );
    await user.click(within(card("m1")).getByRole("button", { name: "Pause" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/models/m1/pause")).toHaveLength(1));
    expect(api.find("POST", "/api/v1/models/m1/pause")[0].headers.Authorization).toBe("Bearer secret");
    expect(onChanged).toHaveBeenCalledWith("m1");
    expect(await within(card("m1")).findByText("Paused.")).toBeInTheDocument();

    await user.selectOptions(within(card("m1")).getByLabelText("Priority"), "high");
    await waitFor(() => expect(api.find("PUT", "/api/v1/models/m1/priority")[0]?.body).toEqual({ priority: "high" }));

    rerender(<ModelCard status={status("m1", { availability_status: "corrupted", present_bytes: 10 })} pinned={false} onChanged={onChanged} />);
    await user.click(within(card("m1")).getByRole("button", { name: "Repair" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/models/m1/repair")).toHaveLength(1));
    expect(api.find("POST", "/api/v1/models/m1/repair")[0].query.get("wait")).toBe("false");
  });

  it("asks before cancelling a download; Keep backs out", async () => {
    setToken("t");
    const api = mockFetch({ "POST /api/v1/models/m1/cancel": { model_id: "m1", stopped: true, freed_bytes: 2_000_000_000 } });
    const user = userEvent.setup();
    renderWithProviders(<ModelCard status={status("m1", { availability_status: "paused", present_bytes: 2e9 })} pinned={false} onChanged={() => {}} />);

    await user.click(within(card("m1")).getByRole("button", { name: "Cancel" }));
    let dialog = screen.getByRole("dialog");
    expect(dialog).toHaveTextContent("Cancel the download of m1?");
    expect(within(dialog).getByRole("button", { name: "Keep" })).toHaveFocus();
    await user.click(within(dialog).getByRole("button", { name: "Keep" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(api.find("POST", "/api/v1/models/m1/cancel")).toHaveLength(0);

    await user.click(within(card("m1")).getByRole("button", { name: "Cancel" }));
    dialog = screen.getByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(api.find("POST", "/api/v1/models/m1/cancel")).toHaveLength(1));
    expect(await screen.findByText(/2\.00 GB freed/)).toBeInTheDocument();
    // The dialog closed and its button was disabled meanwhile: focus is on the card, not lost.
    expect(within(card("m1")).getByRole("heading", { name: "m1" })).toHaveFocus();
  });

  it("removes after a dry run that shows the space freed", async () => {
    setToken("t");
    const plan = (dry: boolean) => ({
      dry_run: dry,
      removed: [{ model_id: "m1", size_bytes: 12e9, last_used: null, uses_per_day: 0, reason: "asked" }],
      kept: [],
      freed_bytes: 12e9,
      free_bytes_before: 100e9,
      free_bytes_after: 112e9,
      message: dry ? "" : "Removed m1.",
    });
    const api = mockFetch({ "DELETE /api/v1/models/m1": (c: Call) => plan(c.query.get("dry_run") === "true") });
    const user = userEvent.setup();
    renderWithProviders(
      <ModelCard status={status("m1", { availability_status: "available", is_available: true, present_bytes: 12e9 })} pinned={false} onChanged={() => {}} />,
    );
    await user.click(within(card("m1")).getByRole("button", { name: "Remove" }));
    const dialog = await screen.findByRole("dialog");
    expect(api.find("DELETE", "/api/v1/models/m1")[0].query.get("dry_run")).toBe("true");
    expect(within(dialog).getByTestId("freed")).toHaveTextContent("12.0 GB");
    await user.click(within(dialog).getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(api.find("DELETE", "/api/v1/models/m1")).toHaveLength(2));
    expect(api.find("DELETE", "/api/v1/models/m1")[1].query.get("dry_run")).toBe("false");
    expect(await screen.findByText("Removed m1.")).toBeInTheDocument();
  });

  it("shows a wait for another node and where the files and checksums came from while it downloads", () => {
    mockFetch({});
    const waiting = "waiting for gpu-3 to publish: 41%";
    const from = "the mirror s3://team/hf (the Hub: offline mode)";
    renderWithProviders(
      <ModelCard
        status={status("m1", { availability_status: "downloading", present_bytes: 10, waiting, resume_at: null, metadata_from: from })}
        pinned={false}
        onChanged={() => {}}
      />,
    );
    expect(within(card("m1")).getByRole("status")).toHaveTextContent(waiting);
    expect(card("m1")).toHaveTextContent(`files and checksums from ${from}`);
  });

  it("shows an API error's message and hint next to the card", async () => {
    setToken("t");
    mockFetch({
      "POST /api/v1/models/m1/download": apiError(507, "storage-full", "Not enough disk space for m1.", "Free 20 GB, e.g. with a cleanup."),
    });
    const user = userEvent.setup();
    renderWithProviders(<ModelCard status={status("m1")} pinned={false} onChanged={() => {}} />);
    await user.click(within(card("m1")).getByRole("button", { name: "Download" }));
    const alert = await within(card("m1")).findByRole("alert");
    expect(alert).toHaveTextContent("Not enough disk space for m1.");
    expect(alert).toHaveTextContent("Free 20 GB, e.g. with a cleanup.");
  });
});
