// Progress bars take their width from data-percent: set through the CSSOM, which a strict
// Content Security Policy allows (inline style attributes it does not).
for (const bar of document.querySelectorAll(".bar span[data-percent]")) {
  bar.style.width = `${Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0))}%`;
}
