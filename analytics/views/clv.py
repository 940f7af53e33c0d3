"""The CLV page: the latest fit (parameters as the paper tabulates them), CLV by RFM segment and by
segment, and a "refit now" button that queues the nightly job."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from analytics.clv import selectors
from analytics.clv.tasks import clv_refresh
from api.publishing import task_publish_on_commit
from customers.labels import RFM_SEGMENT_LABELS
from workspace.permissions import staff_permission_required

ERROR_TEXTS = {
    "too_few_customers": gettext_lazy(
        "Too few customers have a completed order ({customers}) to fit the models."
    ),
    "too_few_repeat_customers": gettext_lazy(
        "Too few customers have bought again on a later day ({repeat}) to fit the models."
    ),
    "no_convergence": gettext_lazy("The fit did not converge on these data."),
    "degenerate": gettext_lazy(
        "The data do not fit the models (a parameter ran off to its limit). Most often the "
        "order values do not differ between customers more than by chance, which Gamma-Gamma "
        "needs."
    ),
}


def _error_text(attempt) -> str:
    text = ERROR_TEXTS.get(attempt.error_code)
    if text is None:
        return attempt.error
    return str(text).format(customers=attempt.customers, repeat=attempt.repeat_customers)


def _chart(rows: list[dict], label_of) -> dict:
    return {
        "labels": [str(label_of(row)) for row in rows],
        "datasets": [
            {
                "label": _("Average revenue to date"),
                "data": [row["avg_historic"] for row in rows],
                "tone": "neutral",
            },
            {
                "label": _("Average predicted CLV, 12 months"),
                "data": [row["avg_clv_12m"] for row in rows],
                "tone": "accent",
            },
        ],
    }


def _rfm_label(row: dict) -> str:
    segment = row["rfm_segment"]
    return RFM_SEGMENT_LABELS.get(segment, segment) if segment else _("No RFM score")


@staff_permission_required("view_analytics")
def clv_page(request):
    fit = selectors.clv_fit_latest()
    attempt = selectors.clv_attempt_latest()
    failed = attempt if attempt is not None and attempt.status != attempt.Status.OK else None
    ctx = {"page": "analytics", "fit": fit, "failed": failed}
    if failed is not None:
        ctx["failed_text"] = _error_text(failed)
    if fit is not None:
        by_rfm = selectors.clv_by_rfm_segment()
        for row in by_rfm:
            row["label"] = _rfm_label(row)
        by_segment = selectors.clv_by_segment()
        ctx.update(
            overall=selectors.clv_overall(),
            by_rfm=by_rfm,
            by_segment=by_segment,
            rfm_chart=_chart(by_rfm, lambda row: row["label"]) if by_rfm else None,
            segment_chart=_chart(by_segment, lambda row: row["name"]) if by_segment else None,
        )
    return render(request, "analytics/clv/page.html", ctx)


@require_POST
@staff_permission_required("manage_analytics")
def clv_refit(request):
    task_publish_on_commit(clv_refresh)
    messages.success(
        request,
        _("The refit is queued: every customer is scored again in a few minutes at most."),
    )
    return redirect("analytics:clv")
