// The page's colours for what CSS cannot reach (Chart.js, canvas drawings): read from the
// stylesheet's custom properties (static/studio/studio.css), so light and dark follow the system.
export function cssColour(name, fallback = "") {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

// Chart.js's defaults (ticks, legends, titles, grid lines) in the page's ink; call before making a chart.
export function themeCharts(Chart = window.Chart) {
  if (!Chart) return;
  Chart.defaults.color = cssColour("--muted", "#6b7785");
  Chart.defaults.borderColor = cssColour("--chart-grid", "rgba(0, 0, 0, .1)");
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
}
