import { formatBytes, formatRate, formatSpeed, parseRate, RATE_FORMS, rateInput, shortenPath, UnitError } from "./format";
import cases from "./units-cases.json";

// The same table tests/test_units.py reads: the dashboard and the CLI agree on every case.
describe("units, as modelward/units.py reads and shows them", () => {
  it.each(cases.rates as [string, number][])("reads the rate %j as %d bytes/s", (text, bytesPerSecond) => {
    expect(parseRate(text)).toBe(bytesPerSecond);
  });

  it.each(cases.rates_refused as [string, string][])("refuses the rate %j (%s)", (text, why) => {
    let refusal: unknown;
    try {
      parseRate(text);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UnitError);
    expect((refusal as UnitError).message.toLowerCase()).toContain(why.toLowerCase());
    expect((refusal as UnitError).hint).toContain(RATE_FORMS);
  });

  it.each(cases.formatted_sizes as [number, string][])("shows %d bytes as %j", (bytes, shown) => {
    expect(formatBytes(bytes)).toBe(shown);
  });

  it.each(cases.formatted_rates as [number, string][])("shows a cap of %d bytes/s as %j", (rate, shown) => {
    expect(formatRate(rate)).toBe(shown);
  });

  it.each(cases.formatted_speeds as [number, string][])("shows a speed of %d bytes/s as %j", (speed, shown) => {
    expect(formatSpeed(speed)).toBe(shown);
  });
});

describe("units", () => {
  it("asks bits or bytes, naming both forms", () => {
    expect(() => parseRate("20Mb/s")).toThrow(/could be bits or bytes/);
    try {
      parseRate("20Mb/s");
    } catch (error) {
      expect((error as UnitError).hint.startsWith("Write MB/s for bytes or Mbit/s for bits")).toBe(true);
    }
  });

  it("writes a cap back in a form that reads as the same bytes per second", () => {
    for (const rate of [0, 4_000_000, 4 * 2 ** 20, 1_500_000_000, 512_000, 1234])
      expect(parseRate(rateInput(rate))).toBe(rate);
    expect(rateInput(20_000_000)).toBe("20MB/s");
    expect(rateInput(4 * 2 ** 20)).toBe("4MiB/s");
  });

  it("says a number alone has no unit, with the accepted forms", () => {
    try {
      parseRate("20");
    } catch (error) {
      expect((error as UnitError).message).toBe('"20" has no unit.');
      expect((error as UnitError).hint).toContain("20MB/s, 160Mbit/s or 1.5GiB/s");
    }
    expect.assertions(2);
  });

  it("shortens a long path in the middle, keeping both ends", () => {
    expect(shortenPath("/short/path")).toBe("/short/path");
    const long = "/home/someone/.cache/huggingface/hub/models--Org--Name/snapshots/0123456789abcdef";
    const short = shortenPath(long, 30);
    expect(short).toHaveLength(30);
    expect(short.startsWith("/home/some")).toBe(true);
    expect(short.endsWith("0123456789abcdef")).toBe(true);
    expect(short).toContain("…");
  });
});
