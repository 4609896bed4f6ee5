"""Every page and fragment, as each role, at a laptop (1440 px) and a tablet (820 px) width.

The demo is seeded (small), then each role's pages are walked from the home page by following
the links a person can click. Each page fails the test on:

- a layout a person cannot see whole: the page wider than the window, a table or card whose
  content is cut off or has to be scrolled sideways (``page_checks.js``);
- an error in the browser console (a Content-Security-Policy violation, a failed request, a
  script error) or a page answering 4xx/5xx;
- a link whose target is a bare fragment (no page around it) or a panel opened on its own;
- a drill-down (``data-drilldown``) whose list does not hold as many accounts as the number
  that opened it;
- a serious or critical accessibility violation found by axe-core (vendored, tests/browser/vendor).

Screenshots of the main pages at both widths go to ``test-artifacts/screenshots/pages/``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HERE = Path(__file__).resolve().parent
PAGE_CHECKS = (HERE / "page_checks.js").read_text()
AXE = (HERE / "vendor" / "axe.min.js").read_text()
SCREENSHOTS = HERE.parents[1] / "test-artifacts" / "screenshots" / "pages"
WIDTHS = (1440, 820)
ROLES = {"maria": "csm", "lena": "leader", "tom": "ae"}
# Never followed: signing out, the operators' admin, downloads, the API itself, email links.
SKIP = ("/logout/", "/admin/", "/static/", "/api/v1/", "/api/schema/", "/unsubscribe/", ".csv")
PER_ROUTE = 2  # two pages of each route (two accounts, two journeys...) show its variations
MAX_PAGES = 45
# Pages whose screenshots are kept: the main page of each kind, by route.
MAIN_ROUTES = {
    "",
    "accounts/",
    "accounts/<int:account_id>/",
    "approvals/",
    "policies/",
    "policies/<int:policy_id>/",
    "reviews/",
    "journeys/",
    "journeys/<int:journey_id>/",
    "handoffs/",
    "handoffs/<int:account_id>/",
    "health-scorecards/",
    "api/docs/",
}


@pytest.fixture
def demo_book(migration_data: None) -> None:
    call_command("seed_demo", "--accounts", "160", "--seed", "7")


def _route(path: str) -> str | None:
    try:
        return resolve(path).route
    except Resolver404:
        return None


def _internal(href: str | None, base: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "javascript:")):
        return None
    parts = urlsplit(href)
    if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
        return None
    path = parts.path or "/"
    if any(skip in path for skip in SKIP):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


class Walk:
    """What one role's walk found: problems by page, and the answers of link targets fetched."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: dict[str, list[str]] = defaultdict(list)
        self.targets: dict[str, tuple[int, str]] = {}

    def fetch(self, url: str, *, htmx: bool = False) -> tuple[int, str]:
        key = f"{'hx:' if htmx else ''}{url}"
        if key not in self.targets:
            headers = {"HX-Request": "true"} if htmx else {}
            response = self.page.request.get(url, headers=headers, max_redirects=0)
            self.targets[key] = (response.status, response.text())
        return self.targets[key]


def _check_links(walk: Walk, url: str) -> list[str]:
    """Links on the page: none to a fragment; each drill-down lists as many as its number."""
    links = walk.page.eval_on_selector_all(
        "main a[href]",
        "els => els.map(a => [a.getAttribute('href'), a.hasAttribute('data-drilldown'),"
        " a.textContent.trim()])",
    )
    found = []
    for href, is_drilldown, text in links:
        target = _internal(href, walk.base)
        if target is None or (urlsplit(target).path == urlsplit(url).path and not urlsplit(target).query):
            continue
        status, body = walk.fetch(target)
        if status >= 400:
            found.append(f"the link “{text}” opens {target}, which answers {status}")
        elif status < 300 and ("<html" not in body or "data-fragment-page" in body):
            found.append(f"the link “{text}” opens {target}, a fragment rather than a page")
        if is_drilldown:
            number = int(text.replace(",", ""))
            total = re.search(r'data-total="(\d+)"', body)
            if total is None:
                found.append(f"the drill-down “{text}” opens {target}, which shows no total")
            elif int(total.group(1)) != number:
                found.append(f"the drill-down “{text}” opens {target}, which lists {total.group(1)} accounts")
    return found


def _check_fragments(walk: Walk) -> list[str]:
    """Every fragment the page loads (or loads on a click) answers without an error."""
    urls = walk.page.eval_on_selector_all("[hx-get]", "els => els.map(e => e.getAttribute('hx-get'))")
    found = []
    for href in set(urls):
        target = _internal(href, walk.base)
        if target is None:
            continue
        status, _ = walk.fetch(target, htmx=True)
        if status >= 400:
            found.append(f"the fragment {target} answers {status}")
    return found


def _axe(page: Any) -> list[str]:
    page.evaluate(AXE)
    # Swagger UI (drf-spectacular-sidecar's bundle, on the API docs page) is left to its makers.
    result = page.evaluate(
        "() => axe.run({exclude: [['#swagger-ui']]}, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.impact + ' ' + v.id + ': ' + v.help + ' ('"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')'))"
    )
    return list(result)


@pytest.mark.parametrize("username", list(ROLES))
def test_every_page_fits_works_and_is_accessible_for_each_role(demo_book, page_for, live_server, username):
    page = page_for(username, password="demo-password", width=WIDTHS[0])
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    walk = Walk(page, live_server.url)
    queue, seen, per_route = ["/"], set(), Counter()
    visited = 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    while queue and visited < MAX_PAGES:
        url = queue.pop(0)
        route = _route(urlsplit(url).path)
        if url in seen or route is None or per_route[route] >= PER_ROUTE:
            continue
        seen.add(url)
        per_route[route] += 1
        visited += 1
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            console.clear()
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            if response is None or response.status >= 400:
                walk.problems[url].append(f"answers {response.status if response else 'nothing'}")
                break
            for problem in page.evaluate(PAGE_CHECKS):
                walk.problems[url].append(f"{width} px: {problem}")
            walk.problems[url] += [f"{width} px console: {line}" for line in console]
            if route in MAIN_ROUTES and per_route[route] == 1:
                name = re.sub(r"[^a-z0-9]+", "-", f"{username} {url}".lower()).strip("-")
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        else:
            walk.problems[url] += _check_links(walk, url)
            walk.problems[url] += _check_fragments(walk)
            walk.problems[url] += [f"axe {line}" for line in _axe(page)]
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
            queue += [t for t in (_internal(h, live_server.url) for h in hrefs) if t and t not in seen]
    problems = {url: found for url, found in walk.problems.items() if found}
    report = "\n".join(f"{url}\n  " + "\n  ".join(found) for url, found in problems.items())
    (SCREENSHOTS.parent.parent / f"page-checks-{username}.txt").write_text(report or "no problems\n")
    assert visited >= 8, f"the walk as {username} reached only {visited} pages"
    assert not problems, report


def test_the_leadership_overview_offers_drill_downs_that_the_walk_checks(demo_book, page_for):
    """The drill-down check above cannot pass by finding none: the overview marks its counts."""
    page = page_for("lena", password="demo-password", width=WIDTHS[0])
    page.wait_for_load_state("networkidle")
    assert page.locator("main a[data-drilldown]").count() >= 10
