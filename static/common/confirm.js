// Destructive actions ask first: a form with data-confirm="question" submits only when the user agrees.
// Listening in the capture phase runs before any page script's own submit handler (experiment.js
// sends its buttons through the API), so a "no" stops those too.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
