"""Safe rendering and save-time validation of journey email templates.

Journey subjects and bodies are Django templates limited to a documented set of placeholders,
tags and filters. A template that would fail to render is refused when it is saved, with its
line and the reason; sending never discovers a broken template.

Placeholders (all strings):

    {{ contact.name }}  {{ contact.first_name }}  {{ contact.email }}
    {{ account.name }}
    {{ csm.name }}  {{ csm.first_name }}  {{ csm.email }}
    {{ tier.code }}  {{ tier.name }}
    {{ links.unsubscribe }}  {{ links.help_center }}  {{ links.training }}
    {{ links.webinars }}  {{ links.community }}

Tags: ``if``/``elif``/``else``, ``firstof``, ``comment``. Filters: see ``ALLOWED_FILTERS``
(``safe`` is not among them: HTML parts are always escaped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Node, Template, TemplateSyntaxError
from django.template.base import FilterExpression, TextNode, Variable, VariableNode
from django.template.defaulttags import CommentNode, FirstOfNode, IfNode, TemplateLiteral
from django.utils.html import escape, linebreaks

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "contact": ("name", "first_name", "email"),
    "account": ("name",),
    "csm": ("name", "first_name", "email"),
    "tier": ("code", "name"),
    "links": ("unsubscribe", "help_center", "training", "webinars", "community"),
}
ALLOWED_PATHS = frozenset(f"{group}.{leaf}" for group, leaves in PLACEHOLDERS.items() for leaf in leaves)
ALLOWED_FILTERS = frozenset(
    {
        "default",
        "default_if_none",
        "upper",
        "lower",
        "title",
        "capfirst",
        "truncatewords",
        "truncatechars",
        "urlencode",
        "yesno",
        "length",
    }
)
ALLOWED_NODES: tuple[type[Node], ...] = (TextNode, VariableNode, IfNode, FirstOfNode, CommentNode)

# Default links of the customer-facing resources; operators set JOURNEY_LINKS in the environment.
DEFAULT_LINKS = {
    "help_center": "https://help.csplatform.example/",
    "training": "https://help.csplatform.example/training",
    "webinars": "https://help.csplatform.example/webinars",
    "community": "https://community.csplatform.example/",
}

# debug=True keeps line numbers on tokens; no loaders, so {% include %} and friends cannot reach
# files, and no libraries, so {% load %} finds nothing.
_engine = Engine(
    debug=True,
    libraries={},
    builtins=["django.template.defaulttags", "django.template.defaultfilters"],
)


class TemplateProblem(ValueError):
    """A template that cannot be saved: ``line`` (1-based) and a human ``reason``."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class CompiledJourneyTemplate:
    template: Template


def _line_of(node: Node) -> int:
    token = getattr(node, "token", None)
    return getattr(token, "lineno", None) or 1


def _check_expression(expression: Any, line: int) -> None:
    if not isinstance(expression, FilterExpression):
        return
    var = expression.var
    if isinstance(var, Variable) and var.lookups is not None:
        path = ".".join(var.lookups)
        if path not in ALLOWED_PATHS:
            known = ", ".join(sorted(ALLOWED_PATHS))
            raise TemplateProblem(line, f"unknown placeholder “{path}” (known: {known})")
    for func, args in expression.filters:
        name = getattr(func, "_filter_name", func.__name__)
        if name not in ALLOWED_FILTERS:
            raise TemplateProblem(line, f"filter “{name}” is not allowed in journey emails")
        for _lookup, arg in args:
            if isinstance(arg, Variable) and arg.lookups is not None:
                path = ".".join(arg.lookups)
                if path not in ALLOWED_PATHS:
                    raise TemplateProblem(line, f"unknown placeholder “{path}” in a filter argument")


def _condition_expressions(node: IfNode) -> Iterator[Any]:
    for condition, _nodelist in node.conditions_nodelists:
        if condition is None:
            continue
        yield from _walk_condition(condition)


def _walk_condition(condition: Any) -> Iterator[Any]:
    if isinstance(condition, TemplateLiteral):
        yield condition.value
        return
    for side in ("first", "second"):
        child = getattr(condition, side, None)
        if child is not None:
            yield from _walk_condition(child)


def _check_nodes(nodes: Any) -> None:
    for node in nodes:
        line = _line_of(node)
        if not isinstance(node, ALLOWED_NODES):
            tag = getattr(getattr(node, "token", None), "contents", "").split(" ")[0] or type(node).__name__
            raise TemplateProblem(line, f"the tag “{tag}” is not allowed in journey emails")
        if isinstance(node, VariableNode):
            _check_expression(node.filter_expression, line)
        elif isinstance(node, IfNode):
            for expression in _condition_expressions(node):
                _check_expression(expression, line)
            for _condition, nodelist in node.conditions_nodelists:
                _check_nodes(nodelist)
        elif isinstance(node, FirstOfNode):
            for expression in node.vars:
                _check_expression(expression, line)


def compile_template(source: str) -> Template:
    """Parse and check ``source``; raise ``TemplateProblem`` with the line and reason."""
    try:
        template = _engine.from_string(source)
    except TemplateSyntaxError as exc:
        info = getattr(exc, "template_debug", None) or {}
        raise TemplateProblem(int(info.get("line", 1)), _syntax_reason(exc)) from exc
    _check_nodes(template.nodelist)
    return template


def _syntax_reason(exc: TemplateSyntaxError) -> str:
    message = str(exc)
    if "Invalid block tag" in message:
        tag = re.search(r"'([^']+)'", message)
        name = tag.group(1) if tag else "?"
        return f"the tag “{name}” is not allowed in journey emails (or is misspelt)"
    if "Invalid filter" in message:
        name = re.search(r"'([^']+)'", message)
        return f"filter “{name.group(1) if name else '?'}” is not allowed in journey emails"
    return f"template syntax error: {message}"


def sample_context() -> dict[str, dict[str, str]]:
    """A realistic context used to prove at save time that a template renders."""
    return {
        "contact": {"name": "Jordan Miller", "first_name": "Jordan", "email": "jordan@customer.example"},
        "account": {"name": "Northwind Retail"},
        "csm": {"name": "Maria Lopez", "first_name": "Maria", "email": "maria@csplatform.example"},
        "tier": {"code": "MM3", "name": "Mid-Market Tier 3"},
        "links": {**journey_links(), "unsubscribe": "https://csplatform.example/unsubscribe/sample/"},
    }


def journey_links() -> dict[str, str]:
    configured = getattr(settings, "JOURNEY_LINKS", None) or {}
    return {**DEFAULT_LINKS, **configured}


def validate_template(source: str) -> None:
    """Refuse a template that does not parse, uses unknown names, or fails on a sample context."""
    template = compile_template(source)
    try:
        template.render(Context(sample_context(), autoescape=False))
    except TemplateProblem:
        raise
    except Exception as exc:
        info = getattr(exc, "template_debug", None) or {}
        raise TemplateProblem(int(info.get("line", 1)), f"does not render: {exc}") from exc


_template_cache: dict[str, Template] = {}


def _cached(source: str) -> Template:
    template = _template_cache.get(source)
    if template is None:
        if len(_template_cache) > 2000:
            _template_cache.clear()
        template = _template_cache[source] = compile_template(source)
    return template


def single_line(text: str) -> str:
    """Collapse all whitespace, newlines included: subjects and display names are header values."""
    return " ".join(text.split())


# Links in the plain text become links in the generated HTML part. (urlize does far more than
# we need and costs more than rendering the three templates.)
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")


def _text_as_html(text: str) -> str:
    """Simple HTML for a plain-text body: escaped, paragraphs and line breaks, links clickable."""
    escaped = str(escape(text))
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    return str(linebreaks(linked))


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str


def render_email(
    *, subject: str, body_text: str, body_html: str, context: Mapping[str, Mapping[str, str]]
) -> RenderedEmail:
    """Render one step for one contact: the only rendering path (preview, dry run and send)."""
    text = str(_cached(body_text).render(Context(context, autoescape=False)))
    html: str
    if body_html.strip():
        html = str(_cached(body_html).render(Context(context, autoescape=True)))
    else:
        html = _text_as_html(text)
    return RenderedEmail(
        subject=single_line(_cached(subject).render(Context(context, autoescape=False)))[:255],
        body_text=text,
        body_html=html,
    )
