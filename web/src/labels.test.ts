import schemaText from "./api/schema.ts?raw";
import { humanize, label, LABELS } from "./labels";

/** Every union of string literals in the generated schema ("a" | "b" | ...), with where it is. */
function schemaEnums(text: string): { where: string; values: string[] }[] {
  const found: { where: string; values: string[] }[] = [];
  const union = /^\s*([\w?]+):\s*\(?((?:"[^"]*"\s*\|\s*)+"[^"]*")\)?/gm;
  for (const match of text.matchAll(union)) {
    const values = [...match[2].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    found.push({ where: match[1], values });
  }
  return found;
}

describe("labels", () => {
  it("finds the schema's enums (the parser works on this schema)", () => {
    const names = schemaEnums(schemaText).map((e) => e.where);
    expect(names).toEqual(expect.arrayContaining(["ModelAvailabilityStatus", "Priority", "DownloadStatus", "automation"]));
  });

  it("has a label for every enum value in the API schema, in one table that covers the whole enum", () => {
    const tables = Object.entries(LABELS) as [string, Record<string, string>][];
    const uncovered = schemaEnums(schemaText).filter(
      ({ values }) => !tables.some(([, table]) => values.every((v) => Object.hasOwn(table, v))),
    );
    expect(uncovered).toEqual([]);
  });

  it("writes people's words, never the code", () => {
    expect(label("qualityDifference", "slightly_lower")).toBe("Slightly lower quality");
    expect(label("strategyType", "alternative_model")).toBe("Use another model");
    expect(label("availability", "corrupted")).toBe("Damaged");
    expect(label("availability", "missing")).toBe("Not downloaded");
    expect(label("priority", "high")).toBe("High");
    for (const table of Object.values(LABELS) as Record<string, string>[])
      for (const [code, words] of Object.entries(table)) {
        expect(words).not.toMatch(/_/);
        if (code.length > 3) expect(words).not.toBe(code);
      }
  });

  it("writes a code no table knows as words", () => {
    expect(label("strategyType", "wait_for_gpu")).toBe("Wait for gpu");
    expect(humanize("rolled-back")).toBe("Rolled back");
    expect(label("severity", null)).toBe("—");
  });
});
