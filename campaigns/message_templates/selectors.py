"""Reads of templates for pages and the API (keyset pages on (updated_at, id), never a count)."""

from django.db.models import Q

from campaigns.message_templates.models import Template, TemplateVersion


def templates_page(*, archived: bool = False, q: str = "", after=None, limit: int = 50):
    qs = Template.objects.select_related("current_version").filter(archived_at__isnull=not archived)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:100])
    if after is not None:
        updated_at, pk = after
        qs = qs.filter(Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk))
    rows = list(qs.order_by("-updated_at", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def template_versions(template: Template, limit: int = 50):
    return list(
        TemplateVersion.objects.filter(template=template)
        .select_related("created_by")
        .order_by("-number")[:limit]
    )
