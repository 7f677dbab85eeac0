import { act, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mockFetch } from "../../test/fakes";
import { progress } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { DownloadRow } from "./DownloadRow";

describe("DownloadRow", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2025-01-01T12:00:00Z"), shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  it("says where the files and checksums came from, and a wait for another node as it is", () => {
    mockFetch({});
    renderWithProviders(
      <DownloadRow
        progress={progress("m1", {
          // A lease wait: another node fetches the blob; no end time to count down to.
          waiting: "waiting for gpu-3 to publish: 41%",
          resume_at: null,
          metadata_from: "the mirror s3://team/hf (the Hub: unreachable)",
        })}
        onChanged={() => {}}
      />,
    );
    const row = screen.getByRole("article", { name: "download m1" });
    expect(within(row).getByRole("status")).toHaveTextContent("waiting for gpu-3 to publish: 41%");
    act(() => vi.advanceTimersByTime(5_000));
    expect(within(row).getByRole("status")).toHaveTextContent("waiting for gpu-3 to publish: 41%");
    expect(row).toHaveTextContent("files and checksums from the mirror s3://team/hf (the Hub: unreachable)");
  });

  it("says nothing about the origin when it was the Hub", () => {
    mockFetch({});
    renderWithProviders(<DownloadRow progress={progress("m1", { metadata_from: null })} onChanged={() => {}} />);
    expect(screen.getByRole("article", { name: "download m1" })).not.toHaveTextContent("files and checksums");
  });
});
