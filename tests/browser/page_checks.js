// Layout checks run in the page (Playwright's evaluate): what a person at this width cannot see.
// Returns one sentence per problem; [] when the page fits.
() => {
  const problems = [];
  const root = document.documentElement;
  const viewport = root.clientWidth;
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    else if (typeof el.className === "string" && el.className.trim()) name += "." + el.className.trim().split(/\s+/).join(".");
    const holder = el.parentElement && el.parentElement.closest("[id]");
    return holder ? `${name} in #${holder.id}` : name;
  };
  const hidden = (el) =>
    !el.getClientRects().length ||
    el.closest("dialog:not([open])") ||
    el.closest(".visually-hidden") ||
    el.clientWidth <= 2;
  if (root.scrollWidth > viewport + 1) {
    problems.push(`the page is ${root.scrollWidth}px wide in a ${viewport}px window`);
  }
  for (const el of document.querySelectorAll("body *")) {
    if (hidden(el) || ["INPUT", "TEXTAREA", "SELECT", "OPTION", "CANVAS", "IFRAME"].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    const clips = ["auto", "scroll", "hidden", "clip"].includes(style.overflowX);
    const box = el.classList.contains("card") || el.classList.contains("stat") || el.classList.contains("quadrant");
    // A table wider than its frame is cut off or must be scrolled sideways: a column is out of sight.
    if ((clips || box) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)}: content ${el.scrollWidth}px wide in ${el.clientWidth}px`);
    }
  }
  for (const el of document.querySelectorAll("main *, header *")) {
    if (hidden(el)) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width > 0 && rect.right > viewport + 1) {
      problems.push(`${describe(el)} ends at ${Math.round(rect.right)}px, past the ${viewport}px window`);
      break;
    }
  }
  return problems;
}
