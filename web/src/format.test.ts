import { formatBytes, formatRate, parseRate, rateInput, shortenPath, UnitError } from "./format";

describe("units", () => {
  it("writes sizes in decimal units, as the CLI does", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(2_000)).toBe("2.0 kB");
    expect(formatBytes(4_000_000)).toBe("4.0 MB");
    expect(formatBytes(1_234_000_000)).toBe("1.2 GB");
    expect(formatBytes(150_000_000_000)).toBe("150 GB");
  });

  it("writes a cap with sensible rounding; 0 is unlimited", () => {
    expect(formatRate(4_000_000)).toBe("4.0 MB/s");
    expect(formatRate(4 * 2 ** 20)).toBe("4.2 MB/s");
    expect(formatRate(0)).toBe("unlimited");
  });

  it("reads rates written with their unit", () => {
    expect(parseRate("20MB/s")).toBe(20_000_000);
    expect(parseRate("20 MB/s")).toBe(20_000_000);
    expect(parseRate("20MB")).toBe(20_000_000);
    expect(parseRate("160Mbit/s")).toBe(20_000_000);
    expect(parseRate("1.5GiB/s")).toBe(1.5 * 2 ** 30);
    expect(parseRate("512kB/s")).toBe(512_000);
    expect(parseRate("0")).toBe(0);
    expect(parseRate("unlimited")).toBe(0);
  });

  it("writes a cap back in a form that reads as the same bytes per second", () => {
    for (const rate of [0, 4_000_000, 4 * 2 ** 20, 1_500_000_000, 512_000, 1234])
      expect(parseRate(rateInput(rate))).toBe(rate);
    expect(rateInput(20_000_000)).toBe("20MB/s");
    expect(rateInput(4 * 2 ** 20)).toBe("4MiB/s");
  });

  it("refuses a number alone, and anything else, with the accepted forms", () => {
    for (const text of ["20", "4.5", "abc", "20 parsecs", "-3MB/s", ""]) {
      expect(() => parseRate(text)).toThrow(UnitError);
    }
    try {
      parseRate("20");
    } catch (error) {
      expect((error as UnitError).message).toBe('"20" has no unit.');
      expect((error as UnitError).hint).toContain("20MB/s, 160Mbit/s or 1.5GiB/s");
    }
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
