// Parts of a page as the server renders them now: the page is fetched again and each named element is
// put in place (content, class and data attributes), without a reload. Pages call it when their socket
// (re)connects or a job they show ends, so what they show is never older than that.
export async function rereadParts(ids) {
  const response = await fetch(location.href, {credentials: "same-origin", headers: {Accept: "text/html"}});
  if (!response.ok) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const id of ids) {
    const from = fresh.getElementById(id), to = document.getElementById(id);
    if (!from || !to) continue;
    to.replaceChildren(...from.childNodes);
    to.className = from.className;
    Object.assign(to.dataset, from.dataset);
  }
  return true;
}
