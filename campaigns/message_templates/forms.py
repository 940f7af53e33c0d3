"""The editor's POST ↔ a version's variants, and problems placed beside the field they concern."""

from campaigns.message_templates.rendering import TemplateProblem

FIELDS = {
    "email": ("subject", "html", "text"),
    "sms": ("body",),
    "whatsapp": ("template_name", "language", "params"),
    "telegram": ("title", "body", "url"),
    "viber": ("title", "body", "url"),
    "push": ("title", "body", "url"),
}


def variants_from_post(data) -> dict[str, dict]:
    """A channel is part of the template when any of its fields is filled in."""
    variants: dict[str, dict] = {}
    for channel, fields in FIELDS.items():
        values = {}
        for name in fields:
            raw = data.get(f"{channel}_{name}", "") or ""
            if name == "params":
                values[name] = [line.strip() for line in raw.splitlines() if line.strip()]
            else:
                values[name] = raw.strip() if name in ("template_name", "language", "url") else raw
        if any(values.values()):
            variants[channel] = values
    return variants


def post_from_variants(variants: dict) -> dict[str, str]:
    data = {}
    for channel, variant in (variants or {}).items():
        for name, value in variant.items():
            data[f"{channel}_{name}"] = "\n".join(value) if isinstance(value, list) else value
    return data


def extras_from_post(data) -> list[str]:
    return [p.strip() for p in (data.get("extras") or "").replace(",", " ").split() if p.strip()]


def problems_by_field(problems: list[TemplateProblem]) -> dict[str, list[TemplateProblem]]:
    """{"email_html": [...], "": [...]}: the key of the input each problem belongs beside."""
    out: dict[str, list[TemplateProblem]] = {}
    for problem in problems:
        field = problem.field.split("[")[0].split(".")[0]
        key = f"{problem.channel}_{field}" if problem.channel and field else ""
        out.setdefault(key, []).append(problem)
    return out
