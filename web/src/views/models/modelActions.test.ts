import { describe, expect, it } from "vitest";
import { status } from "../../test/fixtures";
import { actionsFor, removeBlockedByPin } from "./modelActions";

const none = { pinned: false, hasPrevious: false };

describe("actionsFor", () => {
  it("offers Download for a missing model, and nothing that needs bytes", () => {
    expect(actionsFor(status("m"), none)).toEqual(["Download"]);
  });

  it("offers Pause and Cancel while downloading, not Remove", () => {
    expect(
      actionsFor(status("m", { availability_status: "downloading", present_bytes: 5, can_pause_download: true }), none),
    ).toEqual(["Pause", "Cancel", "Pin"]);
  });

  it("offers Pause only when the service says the download can pause", () => {
    expect(actionsFor(status("m", { availability_status: "downloading", present_bytes: 5 }), none)).toEqual([
      "Cancel",
      "Pin",
    ]);
    // The state changed by an event before the flags were fetched again: no stale Pause.
    expect(actionsFor(status("m", { availability_status: "paused", present_bytes: 5, can_pause_download: true }), none)).not.toContain(
      "Pause",
    );
    // An update's download can pause too, when the service says so.
    const updating = status("m", { availability_status: "updating", is_available: true, present_bytes: 9 });
    expect(actionsFor({ ...updating, can_pause_download: true }, none)).toContain("Pause");
    expect(actionsFor(updating, none)).not.toContain("Pause");
  });

  it("offers Resume for paused and failed downloads when they can resume, and Remove for their bytes", () => {
    const paused = actionsFor(status("m", { availability_status: "paused", present_bytes: 5, can_resume_download: true }), none);
    expect(paused).toEqual(["Resume", "Cancel", "Pin", "Remove"]);
    expect(paused).not.toContain("Pause");
    expect(actionsFor(status("m", { availability_status: "failed", can_resume_download: true }), none)).toEqual(["Resume", "Cancel"]);
    expect(actionsFor(status("m", { availability_status: "failed" }), none)).toEqual(["Cancel"]);
  });

  it("offers Verify, Update and Rollback for an available model", () => {
    const s = status("m", { availability_status: "available", is_available: true, present_bytes: 9, update_available: true });
    expect(actionsFor(s, { pinned: false, hasPrevious: true })).toEqual(["Verify", "Update", "Rollback", "Pin", "Remove"]);
    expect(actionsFor({ ...s, update_available: false }, none)).toEqual(["Verify", "Pin", "Remove"]);
  });

  it("offers Unpin, not Remove, for a pinned model, and says why", () => {
    const s = status("m", { availability_status: "available", is_available: true, present_bytes: 9 });
    const pinned = { pinned: true, hasPrevious: false };
    expect(actionsFor(s, pinned)).toEqual(["Verify", "Unpin"]);
    expect(removeBlockedByPin(s, pinned)).toBe(true);
    expect(removeBlockedByPin(s, none)).toBe(false);
    expect(removeBlockedByPin(status("m"), pinned)).toBe(false); // nothing on disk to remove anyway
  });

  it("offers Repair only when corrupted", () => {
    expect(actionsFor(status("m", { availability_status: "corrupted", present_bytes: 9 }), none)).toEqual([
      "Verify",
      "Repair",
      "Pin",
      "Remove",
    ]);
  });

  it("offers nothing destructive while repairing", () => {
    expect(actionsFor(status("m", { availability_status: "repairing", present_bytes: 9 }), none)).toEqual(["Pin"]);
  });
});
