// How numbers, sizes, rates, times and durations are written for people, and how sizes and
// rates people write are read. The unit convention is the service's (modelward/units.py):
// decimal units (kB, MB, GB, MB/s) as huggingface_hub and Ollama show them; binary units
// (MiB, GiB) only when written out; a number without a unit (other than 0) is refused.

const KB = 1e3;
const MB = 1e6;
const GB = 1e9;
const TB = 1e12;
/** The highest cap accepted (as the service): far above any link, so more is a typing slip. */
export const MAX_RATE_BYTES_PER_S = TB;

/** Bytes in decimal units, three significant digits, as the CLI shows them: 1.23 GB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  for (const [unit, scale] of [["TB", TB], ["GB", GB], ["MB", MB], ["kB", KB]] as const) {
    // 999,999 bytes read "1.00 MB", not "1,000 kB": compare with what rounds up to 1.00.
    if (Math.abs(bytes) >= scale * 0.9995) return `${threeDigits(bytes / scale)} ${unit}`;
  }
  return `${fixed(bytes, 0)} B`;
}

/** A measured speed: 12.3 MB/s; nothing moving is 0 B/s (nothing measured: —). */
export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return "—";
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : "0 B/s";
}

/** A cap on a rate: 4.00 MB/s; 0 (or less) is unlimited. */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return "—";
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : "unlimited";
}

function threeDigits(value: number): string {
  if (Math.abs(value) >= 99.95) return fixed(value, 0).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fixed(value, Math.abs(value) >= 9.995 ? 1 : 2);
}

/** `toFixed`, but an exact tie rounds to even as Python's format does (1.125 → "1.12"). */
function fixed(value: number, digits: number): string {
  const scaled = value * 10 ** digits;
  const floor = Math.floor(scaled);
  if (scaled - floor !== 0.5) return value.toFixed(digits);
  return ((floor % 2 === 0 ? floor : floor + 1) / 10 ** digits).toFixed(digits);
}

/** The forms a rate may be written in (said when one is refused). */
export const RATE_FORMS = "20MB/s, 160Mbit/s or 1.5GiB/s (0 = unlimited)";

/** A size or rate written without a known unit; `hint` says the forms accepted. */
export class UnitError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = "UnitError";
    this.hint = hint;
  }
}

// The tables of modelward/units.py; units-cases.json holds the answers both must give.
const BYTE_UNITS = new Map<string, number>([
  ["b", 1],
  ["kb", KB],
  ["mb", MB],
  ["gb", GB],
  ["tb", TB],
  ["kib", 2 ** 10],
  ["mib", 2 ** 20],
  ["gib", 2 ** 30],
  ["tib", 2 ** 40],
]);
// Network people write rates in bits; a byte is 8 of them.
const BIT_UNITS = new Map<string, number>([
  ["bit", 1 / 8],
  ["kbit", KB / 8],
  ["mbit", MB / 8],
  ["gbit", GB / 8],
  ["tbit", TB / 8],
  ["kbps", KB / 8],
  ["mbps", MB / 8],
  ["gbps", GB / 8],
  ["tbps", TB / 8],
]);
const NUMBER_UNIT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*(\/\s*s)?\s*$/i;
const UNLIMITED = new Set(["0", "none", "off", "unlimited"]);
// "Mb/s" is megabits to a network engineer and megabytes to most others: ask which.
const AMBIGUOUS = /^[KMGT]b$/;

/** Bytes per second from `20MB/s`, `160Mbit/s`, `1.5GiB/s` or `0` (unlimited), as the
 * service reads them; `20MB` is read as `20MB/s`. A number alone (other than 0) is refused. */
export function parseRate(text: string): number {
  const shown = text.trim();
  if (UNLIMITED.has(shown.toLowerCase())) return 0;
  const match = NUMBER_UNIT.exec(text);
  if (!match) throw notARate(shown);
  const number = Number(match[1]);
  const unit = match[2];
  if (!unit) {
    if (number === 0) return 0;
    throw new UnitError(`"${shown}" has no unit.`, `Write the unit, e.g. ${RATE_FORMS}; a number alone is not accepted.`);
  }
  if (AMBIGUOUS.test(unit)) {
    const prefix = unit[0];
    throw new UnitError(
      `"${shown}" could be bits or bytes.`,
      `Write ${prefix}B/s for bytes or ${prefix}bit/s for bits, e.g. ${RATE_FORMS}.`,
    );
  }
  const key = (unit.endsWith("Bps") ? unit.slice(0, -2) : unit).toLowerCase(); // MBps is MB/s
  const scale = BYTE_UNITS.get(key) ?? BIT_UNITS.get(key);
  if (scale === undefined) throw notARate(shown);
  const rate = Number(fixed(number * scale, 0)); // Python's round(): 2.5 → 2
  if (number && !rate) throw notARate(shown); // 0.1B/s must not turn into "unlimited"
  if (rate > MAX_RATE_BYTES_PER_S) {
    throw new UnitError(
      `Bandwidth limit ${shown} is outside 0 to ${formatRate(MAX_RATE_BYTES_PER_S)}.`,
      `Give a rate such as ${RATE_FORMS}.`,
    );
  }
  return rate;
}

function notARate(shown: string): UnitError {
  return new UnitError(`Not a rate: "${shown}".`, `Give a rate such as ${RATE_FORMS}.`);
}

/** Seconds as "1 h 5 min", "3 min 20 s", "45 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  // Under 10 s the fraction matters (a job of 0.02 s is not a job of 0 s).
  if (seconds > 0 && seconds < 10) return `${Number(seconds.toFixed(seconds < 1 ? 2 : 1))} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    const rest = s % 60;
    return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

export function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A time given as an ISO string or as Unix seconds. */
export function formatTime(value: string | number | null | undefined): string {
  const date = toDate(value);
  return date ? date.toLocaleString() : "—";
}

/** "3 h ago", "in 5 min". */
export function formatRelative(value: string | number | null | undefined, now = Date.now()): string {
  const date = toDate(value);
  if (!date) return "never";
  const diff = (date.getTime() - now) / 1000;
  if (Math.abs(diff) < 5) return "just now";
  const whole = Math.round(Math.abs(diff)); // "7 s ago", not "7.2 s ago"
  return diff < 0 ? `${formatDuration(whole)} ago` : `in ${formatDuration(whole)}`;
}

/** A 0..1 fraction as a percentage. */
export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** A commit hash or version, shortened for reading. */
export function shortVersion(version: string | null | undefined): string {
  if (!version) return "—";
  return /^[0-9a-f]{40}$/i.test(version) ? version.slice(0, 10) : version;
}

/** A cap written so that reading it back gives the same bytes per second (4MB/s, 4MiB/s). */
export function rateInput(bytesPerSecond: number): string {
  if (bytesPerSecond <= 0) return "0";
  const exact: [number, string][] = [
    [1e9, "GB/s"],
    [2 ** 30, "GiB/s"],
    [1e6, "MB/s"],
    [2 ** 20, "MiB/s"],
    [1e3, "kB/s"],
  ];
  for (const [scale, unit] of exact) if (bytesPerSecond % scale === 0) return `${bytesPerSecond / scale}${unit}`;
  return `${bytesPerSecond}B/s`;
}

/** A long path shortened in the middle so both ends stay readable: `/home/…/snapshots/abc`. */
export function shortenPath(path: string, max = 34): string {
  if (path.length <= max) return path;
  const keep = max - 1; // one character for the ellipsis
  const tail = Math.ceil(keep * 0.6); // the end (file or snapshot) says more than the start
  return `${path.slice(0, keep - tail)}…${path.slice(path.length - tail)}`;
}
