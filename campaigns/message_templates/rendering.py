"""Liquid rendering: strict at save time, cheap per customer at send time.

A version's variants are parsed once (`compiled(version)`, cached by version id: versions never
change) and checked against the context schema: every variable a template reads must be a known
customer field or typed attribute, rfm, a registered provider (points, promo_code,
recommendations…), a link, or an extra the caller declared; every filter must exist. At send
time a value that is missing (undefined, or an empty customer field) raises
`TemplateMissingValue` unless the template gives it a `default`, so no customer ever gets
"Здравствуйте, !".
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import gettext as _
from liquid import Environment, FalsyStrictUndefined
from liquid.ast import BlockNode
from liquid.builtin.content import ContentNode
from liquid.builtin.expressions.arguments import PositionalArgument
from liquid.builtin.expressions.filtered import FilteredExpression
from liquid.builtin.expressions.logical import (
    BooleanExpression,
    EqExpression,
    NeExpression,
    _eq,
    is_truthy,
)
from liquid.builtin.expressions.path import Path
from liquid.builtin.expressions.primitive import IntegerLiteral, StringLiteral
from liquid.builtin.output import OutputNode
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.if_tag import IfNode
from liquid.exceptions import LiquidError, UndefinedError

from campaigns.context import context_providers
from campaigns.message_templates.schemas import variant_fields


class _Environment(Environment):
    """Bounded: a template typed in the editor cannot loop or grow without end."""

    loop_iteration_limit = 10_000
    output_stream_limit = 1_000_000  # characters of one rendered field
    local_namespace_limit = 100_000


env = _Environment(undefined=FalsyStrictUndefined, autoescape=False)

CUSTOMER_FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "full_name",
    "locale",
    "timezone",
    "birth_date",
    "lifecycle_stage",
)
# The customer's lifetime value (customers.CustomerValue, written nightly by analytics.clv), read
# as customer.clv_12m etc.; absent for customers without a completed order.
CLV_FIELDS = (
    "historic_revenue",
    "orders",
    "p_alive",
    "expected_purchases_12m",
    "expected_spend",
    "clv_12m",
)
RFM_FIELDS = ("segment", "r", "f", "m", "recency_days", "frequency", "monetary")
# Provided by the other parts of campaigns once they register; declared here so templates can be
# written (with a default) before those parts are installed.
PROVIDED = ("points", "promo_code", "recommendations")
LINKS = ("unsubscribe_url", "preferences_url")


class TemplateMissingValue(Exception):
    """A variable had no value for this customer and the template gave no default."""

    def __init__(self, variable: str):
        super().__init__(variable)
        self.variable = variable


class TemplateRenderFailed(TemplateMissingValue):
    """Rendering stopped for this customer (a loop limit, a filter's bad argument): the message
    is suppressed like a missing value, with the reason."""


@dataclass(frozen=True)
class TemplateProblem:
    channel: str
    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.channel}.{self.field}"
        if self.line:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


class TemplateInvalid(ValueError):
    def __init__(self, problems: list[TemplateProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class RenderedMessage:
    channel: str
    version_id: int | None
    subject: str = ""
    body: str = ""
    html: str = ""
    payload: dict = field(default_factory=dict)


_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


def _line(source: str, index: int | None) -> int | None:
    if index is None or index < 0:
        return None
    return source.count("\n", 0, index) + 1


def _error_line(source: str, exc: LiquidError) -> int | None:
    token = getattr(exc, "token", None)
    line = _line(source, getattr(token, "start_index", None))
    if line is None:
        match = re.search(r" (\d+):\d+\n", str(exc))
        line = int(match.group(1)) if match else None
    return line


def _short(exc: LiquidError) -> str:
    return str(exc.args[0] if exc.args else exc).splitlines()[0]


def known_names(extras: list[str] | tuple = ()) -> dict[str, tuple | None]:
    """{top-level name: allowed second segments, or None when anything goes}."""
    from customers.models import AttributeDefinition

    names: dict[str, tuple | None] = {
        "customer": (*CUSTOMER_FIELDS, *CLV_FIELDS, "attributes"),
        "rfm": RFM_FIELDS,
    }
    for name in (*PROVIDED, *context_providers().keys(), *extras):
        names[name] = None
    for link in LINKS:
        names[link] = ()
    names["_attributes"] = tuple(AttributeDefinition.objects.values_list("key", flat=True))
    return names


def validate_variants(variants: dict[str, dict], extras: list[str] = ()) -> list[TemplateProblem]:
    """Parse every field of every variant; list what is wrong (empty when all is well)."""
    names = known_names(extras)
    attributes = names.pop("_attributes")
    problems: list[TemplateProblem] = []
    for channel, variant in variants.items():
        for name, source in variant_fields(channel, variant):
            try:
                template = env.from_string(source)
                analysis = template.analyze()
            except LiquidError as exc:
                problems.append(
                    TemplateProblem(channel, name, _error_line(source, exc), _short(exc))
                )
                continue
            for filter_name, spans in analysis.filters.items():
                if filter_name not in env.filters:
                    line = _line(source, spans[0].index)
                    problems.append(
                        TemplateProblem(
                            channel,
                            name,
                            line,
                            _("unknown filter “%(name)s”") % {"name": filter_name},
                        )
                    )
            for _var_name, usages in analysis.globals.items():
                for usage in usages:
                    problem = _variable_problem(usage.segments, names, attributes)
                    if problem:
                        line = _line(source, usage.span.index)
                        problems.append(TemplateProblem(channel, name, line, problem))
                        break
    return problems


def _variable_problem(segments: list, names: dict, attributes: tuple) -> str | None:
    path = ".".join(str(s) for s in segments if isinstance(s, str | int))
    top = segments[0]
    if top not in names:
        return _("unknown variable “%(name)s”") % {"name": path}
    allowed = names[top]
    if allowed is None or len(segments) < 2 or not isinstance(segments[1], str):
        return None
    if segments[1] not in allowed:
        return _("unknown variable “%(name)s”") % {"name": path}
    is_attribute = top == "customer" and segments[1] == "attributes" and len(segments) > 2
    if is_attribute and isinstance(segments[2], str) and segments[2] not in attributes:
        return _("unknown attribute “%(name)s”") % {"name": segments[2]}
    return None


# --- the fast path --------------------------------------------------------------------------------
# Rendering a parsed Liquid template walks its tree node by node through python-liquid's general
# machinery (a render context per field, a chain of scopes, a size-limited output stream): about
# 100 µs for a 2 KB email, twice (the HTML and the text made from it). Most message templates use
# a small part of Liquid: text, `{{ a.b }}` with or without `| default: x`, `{% for p in a.b
# limit: n %}` and `{% if a.b %}` / `{% if a.b == "x" %}`. Such a template is also turned into a
# flat list of steps at compile time and rendered by `_run` in a fifth of the time or less.
# `_run` gives up (`_Slow`) on anything it does not treat exactly as Liquid would (a missing value
# without a default, a value that is not a dict, string, number, bool or None, a loop over a
# non-list, too many loop iterations): the field is then rendered by python-liquid, which raises
# the same errors as ever. Templates with any other tag or filter always go through python-liquid.


class _Slow(Exception):
    """Render this field with python-liquid instead."""


_MISSING = object()
_default = env.filters["default"]
_UNSAFE_KEYS = ("size", "first", "last", "forloop")  # computed by Liquid, not looked up


def _flat_path(expression) -> tuple:
    if not isinstance(expression, Path):
        raise _Slow
    segments = tuple(expression.path)
    if not all(type(s) is str and s not in _UNSAFE_KEYS for s in segments):
        raise _Slow
    return segments


def _flat_literal(expression):
    if type(expression) not in (StringLiteral, IntegerLiteral):
        raise _Slow
    return expression.value


def _flat_condition(expression) -> tuple:
    if not isinstance(expression, BooleanExpression):
        raise _Slow
    inner = expression.expression
    if isinstance(inner, Path):
        return ("truthy", _flat_path(inner), None)
    if type(inner) in (EqExpression, NeExpression):
        kind = "eq" if type(inner) is EqExpression else "ne"
        return (kind, _flat_path(inner.left), _flat_literal(inner.right))
    raise _Slow


def _flat_block(block) -> list:
    # Liquid outputs nothing for a block of only whitespace: leave that to Liquid.
    if block is None:
        return []
    if not isinstance(block, BlockNode) or block.blank:
        raise _Slow
    return _flat(block.nodes)


def _flat(nodes) -> list:
    """The steps of `nodes`, or _Slow when one of them is outside the fast path."""
    steps: list[tuple] = []
    for node in nodes:
        kind = type(node)
        if kind is ContentNode:
            steps.append(("text", node.text, None))
        elif kind is OutputNode and type(node.expression) is FilteredExpression:
            expression = node.expression
            filters = expression.filters or []
            default = _MISSING
            if filters:  # only one `default: "literal"`
                args = filters[0].args
                if len(filters) > 1 or filters[0].name != "default" or len(args) != 1:
                    raise _Slow
                if type(args[0]) is not PositionalArgument:
                    raise _Slow
                default = _flat_literal(args[0].value)
            steps.append(("output", _flat_path(expression.left), default))
        elif kind is ForNode:
            loop = node.expression
            limit = loop.limit
            if loop.offset is not None or loop.reversed or loop.cols is not None:
                raise _Slow
            if limit is not None:
                limit = _flat_literal(limit)
                if type(limit) is not int or limit <= 0:
                    raise _Slow
            steps.append(
                (
                    "for",
                    (str(loop.identifier), _flat_path(loop.iterable), limit),
                    (_flat_block(node.block), _flat_block(node.default)),
                )
            )
        elif kind is IfNode:
            branches = [(_flat_condition(node.condition), _flat_block(node.consequence))]
            for alternative in node.alternatives:
                branches.append(
                    (_flat_condition(alternative.expression), _flat_block(alternative.block))
                )
            steps.append(("if", branches, _flat_block(node.default)))
        else:
            raise _Slow
    return steps


def _flattened(template) -> list | None:
    try:
        return _flat(template.nodes)
    except _Slow:
        return None


def _lookup(path: tuple, context: dict, local: dict):
    obj = local.get(path[0], _MISSING)
    if obj is _MISSING:
        obj = context.get(path[0], _MISSING)
    for key in path[1:]:
        if obj is _MISSING:
            return obj
        if type(obj) is not dict:
            raise _Slow
        obj = obj.get(key, _MISSING)
    return obj


def _text(value) -> str:
    """Liquid's to_liquid_string (without autoescape) for the plain types."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind in (int, float, Decimal):
        return str(value)
    raise _Slow


def _condition(condition: tuple, context: dict, local: dict) -> bool:
    kind, path, literal = condition
    value = _lookup(path, context, local)
    if value is _MISSING:
        value = env.undefined(path[0], token=None)
    elif type(value) in (dict, list):
        raise _Slow  # Liquid's comparisons of containers are its own business
    if kind == "truthy":
        return is_truthy(value)
    equal = _eq(value, literal)
    return equal if kind == "eq" else not equal


def _run(steps: list, context: dict, local: dict, out: list, budget: list[int]) -> None:
    """Append the output of `steps` to `out`; `budget` holds the loop iterations still allowed
    (nested loops over long lists give up long before Liquid's own limit would stop them)."""
    for kind, a, b in steps:
        if kind == "text":
            out.append(a)
        elif kind == "output":
            value = _lookup(a, context, local)
            if value is _MISSING:
                if b is _MISSING:
                    raise _Slow  # Liquid raises the UndefinedError that names the variable
                value = b
            elif b is not _MISSING:
                value = _default(value, b)
            out.append(_text(value))
        elif kind == "for":
            name, path, limit = a
            items = _lookup(path, context, local)
            if type(items) is not list:
                raise _Slow
            if limit is not None:
                items = items[:limit]
            budget[0] -= len(items)
            if budget[0] < 0:
                raise _Slow
            body, otherwise = b
            if not items:
                _run(otherwise, context, local, out, budget)
            for item in items:
                _run(body, context, {**local, name: item}, out, budget)
        else:  # "if"
            for condition, block in a:
                if _condition(condition, context, local):
                    _run(block, context, local, out, budget)
                    break
            else:
                _run(b, context, local, out, budget)


def _render(template, steps: list | None, context: dict) -> str:
    """One field: the fast path when the template has one and the values allow it."""
    if steps is not None:
        out: list[str] = []
        try:
            _run(steps, context, {}, out, [env.loop_iteration_limit])
        except _Slow:
            pass
        else:
            text = "".join(out)
            if len(text) <= env.output_stream_limit:
                return text
    return template.render(**context)


@lru_cache(maxsize=256)
def _compiled(version_id: int, channel: str, sources: tuple) -> tuple:
    from campaigns.message_templates.html_text import html_to_text

    fields = [(name, env.from_string(source)) for name, source in sources]
    names = {name for name, _source in sources}
    if channel == "email" and "html" in names and "text" not in names:
        # The plain-text part is made once from the HTML *template* (Liquid passes through the
        # converter as text), not from each customer's HTML: converting per message would cost
        # five times the rendering itself. A template the converter garbles keeps the slow way.
        with contextlib.suppress(LiquidError):
            fields.append(("text", env.from_string(html_to_text(dict(sources)["html"]))))
    return tuple((name, template, _flattened(template)) for name, template in fields)


def compiled(version, channel: str) -> tuple:
    variant = (version.variants or {}).get(channel)
    if variant is None:
        raise KeyError(channel)
    sources = tuple(variant_fields(channel, variant))
    return _compiled(version.pk or 0, channel, sources)


def render_compiled(version, channel: str, context: dict) -> RenderedMessage:
    """Render one channel variant with a ready context. TemplateMissingValue on a gap."""
    from campaigns.message_templates.html_text import html_to_text

    out: dict[str, str] = {}
    params: list[str] = []
    try:
        for name, template, steps in compiled(version, channel):
            value = _render(template, steps, context)
            if name.startswith("params["):
                params.append(value)
            else:
                out[name] = value
    except UndefinedError as exc:
        variable = _short(exc).removesuffix(" is undefined").strip("'")
        raise TemplateMissingValue(variable) from exc
    except LiquidError as exc:  # a limit reached, a filter given a bad value…
        raise TemplateRenderFailed(_short(exc)) from exc
    variant = version.variants[channel]
    message = RenderedMessage(channel=channel, version_id=version.pk)
    if channel == "email":
        message.subject = out.get("subject", "")
        message.html = out.get("html", "")
        if "text" in out:  # from the text template: a loop may have left runs of blank lines
            message.body = _BLANK_RUNS.sub("\n\n", out["text"]).strip()
        else:
            message.body = html_to_text(message.html)
    elif channel == "sms":
        message.body = out.get("body", "")
    elif channel == "whatsapp":
        message.payload = {
            "template": {
                "name": variant["template_name"],
                "language": variant["language"],
                "params": params,
            }
        }
        message.body = f"{variant['template_name']}({', '.join(params)})"
    elif channel == "push":
        message.subject = out.get("title", "")
        message.body = out.get("body", "")
        if out.get("url"):
            message.payload = {"url": out["url"]}
    else:  # telegram, viber: a title line, the text, then the link
        parts = [out.get("title", ""), out.get("body", ""), out.get("url", "")]
        message.body = "\n\n".join(p for p in parts if p.strip())
    return message
