// Numbers as every page shows them: one convention, "–" for a value nobody measured. The server
// renders the same rules (webapp/studio/figures.py; tests/webapp/test_figures.py compares the two).
//   count(568_123) -> "568 k", count(1_234_567) -> "1.23 M", count(36_912_345) -> "36.9 M" (params, MACs)
//   accuracy(0.81234) -> "81.2 %"; fixed(0.81234, 3) -> "0.812" (losses, edge weights)
//   ms(0.123) -> "0.12 ms", ms(12.34) -> "12.3 ms", ms(123.4) -> "123 ms"
//   percent(0.123) -> "12.3 %"
//   generation(0) -> 1: the engine counts generations from 0, people from 1 (the first population)
export const MISSING = "–";

const missing = (value) => value === null || value === undefined || value === "" || typeof value === "boolean"
  || Number.isNaN(Number(value));

export function fixed(value, digits) {
  return missing(value) ? MISSING : Number(value).toFixed(digits);
}

// Three significant figures with a unit prefix; numbers under 1000 as whole numbers.
export function count(value) {
  if (missing(value)) return MISSING;
  const number = Number(value);
  const abs = Math.abs(number);
  // The thresholds sit where rounding to three figures carries over (999,950 is "1.00 M", not "1000 k").
  for (const [scale, unit] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
    if (abs >= scale * 0.9995) {
      const scaled = abs / scale;
      return `${(number / scale).toFixed(scaled >= 99.95 ? 0 : scaled >= 9.995 ? 1 : 2)} ${unit}`;
    }
  }
  return number.toFixed(0);
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

// An accuracy (a fraction of clips right) as a percentage with one decimal.
export const accuracy = (fraction) => percent(fraction, 1);

// The generation as people count it: the engine's index 0 (the first population) is generation 1.
export function generation(index) {
  return missing(index) ? MISSING : Number(index) + 1;
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
