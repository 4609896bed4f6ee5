"""HTML checks shared by the security tests: CSP header and no inline script in a page."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_INLINE_SCRIPT_TYPES = {"application/json"}


class _ScriptFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline event handler {name}={value!r} on <{tag}>")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} needs eval, which CSP forbids (<{tag}>)")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")
        if tag == "script" and not values.get("src"):
            script_type = (values.get("type") or "").lower()
            if script_type not in ALLOWED_INLINE_SCRIPT_TYPES:
                self.problems.append(f"inline <script type={script_type or 'text/javascript'!r}>")


def inline_script_problems(html: str) -> list[str]:
    finder = _ScriptFinder()
    finder.feed(html)
    return finder.problems


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict_csp(response) -> None:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = csp_directives(header)
    script_src = directives.get("script-src", directives.get("default-src", []))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, header
    assert "'unsafe-inline'" not in directives.get("style-src", directives.get("default-src", [])), header
    assert directives.get("object-src") == ["'none'"], header
    assert directives.get("frame-ancestors") == ["'none'"], header
