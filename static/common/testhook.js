// The one door into a page's state from outside: window.__studioTest.<name>, read by the
// end-to-end tests (and handy in the console). Modules never read it: they import each other.
export function exposeForTests(name, value) {
  window.__studioTest ??= {};
  window.__studioTest[name] = value;
  return value;
}
