// Numbers as every page shows them: one convention, "–" for a value nobody measured.
//   count(568_123) -> "568 k", count(36_912_345) -> "36.9 M", count(1.2e9) -> "1.2 G" (params, MACs)
//   fixed(0.81234, 3) -> "0.812" (accuracies, losses)
//   ms(0.123) -> "0.12 ms", ms(12.34) -> "12.3 ms", ms(123.4) -> "123 ms"
//   percent(0.123) -> "12.3 %"
export const MISSING = "–";

const missing = (value) => value === null || value === undefined || value === "" || Number.isNaN(Number(value));

export function fixed(value, digits) {
  return missing(value) ? MISSING : Number(value).toFixed(digits);
}

// Three significant figures at most, with a unit prefix; small numbers as they are.
export function count(value) {
  if (missing(value)) return MISSING;
  const number = Number(value);
  const abs = Math.abs(number);
  for (const [scale, unit] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
    if (abs >= scale) return `${(number / scale).toFixed(abs >= 100 * scale ? 0 : 1)} ${unit}`;
  }
  return String(number);
}

// The exact number with its thousands grouped, for a tooltip next to count().
export function exact(value) {
  return missing(value) ? MISSING : Number(value).toLocaleString("en-US");
}

// Enough decimals to tell two latencies apart, never more than the measurement carries.
export function ms(value) {
  if (missing(value)) return MISSING;
  const number = Number(value);
  const abs = Math.abs(number);
  return `${number.toFixed(abs < 1 ? 2 : abs < 100 ? 1 : 0)} ms`;
}

export function percent(fraction, digits = 1) {
  return missing(fraction) ? MISSING : `${(100 * Number(fraction)).toFixed(digits)} %`;
}

// A tensor shape: C×T×H² when the frame is square.
export function tensorShape(dims) {
  if (!Array.isArray(dims)) return "";
  if (dims.length !== 4) return dims.join("×");
  const [c, t, height, width] = dims;
  return height === width ? `${c}×${t}×${height}²` : dims.join("×");
}

// A server timestamp (ISO 8601) in the reader's own time zone and format.
export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}
