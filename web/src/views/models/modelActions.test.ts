import { describe, expect, it } from "vitest";
import { status } from "../../test/fixtures";
import { actionsFor } from "./modelActions";

const none = { pinned: false, hasPrevious: false };

describe("actionsFor", () => {
  it("offers Download for a missing model, and nothing that needs bytes", () => {
    expect(actionsFor(status("m"), none)).toEqual(["Download"]);
  });

  it("offers Pause and Cancel while downloading, not Remove", () => {
    expect(actionsFor(status("m", { availability_status: "downloading", present_bytes: 5 }), none)).toEqual([
      "Pause",
      "Cancel",
      "Pin",
    ]);
  });

  it("offers Resume for paused and failed downloads, and Remove for their bytes", () => {
    const paused = actionsFor(status("m", { availability_status: "paused", present_bytes: 5 }), none);
    expect(paused).toEqual(["Resume", "Cancel", "Pin", "Remove"]);
    expect(paused).not.toContain("Pause");
    expect(actionsFor(status("m", { availability_status: "failed" }), none)).toEqual(["Resume", "Cancel"]);
  });

  it("offers Verify, Update and Rollback for an available model", () => {
    const s = status("m", { availability_status: "available", is_available: true, present_bytes: 9, update_available: true });
    expect(actionsFor(s, { pinned: true, hasPrevious: true })).toEqual(["Verify", "Update", "Rollback", "Unpin", "Remove"]);
    expect(actionsFor({ ...s, update_available: false }, none)).toEqual(["Verify", "Pin", "Remove"]);
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
