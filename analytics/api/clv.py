"""API v1 for CLV: a customer's values (over any horizon) and the fit with averages by segment.

    GET /api/v1/customers/{external_id}/clv[?horizon_months=N]
    GET /api/v1/clv

Both are reads (scope `read`). The values are those the nightly run (analytics.clv) wrote; a
horizon other than 12 months is computed on the spot from the customer's stored summary and the
fit's parameters, as of the fit's calibration end.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.clv import selectors
from analytics.clv.models import (
    DAYS_PER_MONTH,
    DAYS_PER_WEEK,
    BgNbdParams,
    GammaGammaParams,
    bgnbd_expected_purchases,
    discounted_purchases,
    gamma_gamma_expected_spend,
)
from analytics.models import ClvFit
from api.errors import ValidationFailed
from api.schema import error_responses
from customers.models import CustomerValue
from customers.selectors import customer_get

MAX_HORIZON_MONTHS = 120
READ_ERRORS = (400, 401, 429)


class BgNbdSerializer(serializers.Serializer):
    r = serializers.FloatField()
    alpha = serializers.FloatField()
    a = serializers.FloatField()
    b = serializers.FloatField()
    log_likelihood = serializers.FloatField()


class GammaGammaSerializer(serializers.Serializer):
    p = serializers.FloatField()
    q = serializers.FloatField()
    gamma = serializers.FloatField()
    log_likelihood = serializers.FloatField()


class ClvFitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ClvFit.Status.choices)
    error_code = serializers.CharField(
        help_text="Why a failed run fitted nothing: too_few_customers, too_few_repeat_customers, "
        "no_convergence or degenerate; empty when it fitted."
    )
    error = serializers.CharField()
    calibration_end = serializers.DateField(help_text="Orders up to the end of this UTC day.")
    fitted_at = serializers.DateTimeField()
    duration_seconds = serializers.FloatField()
    customers = serializers.IntegerField(help_text="Customers with a completed order.")
    repeat_customers = serializers.IntegerField(help_text="Of them, who bought on a later day.")
    summary_groups = serializers.IntegerField(help_text="Distinct (x, t_x, T) summaries.")
    horizon_months = serializers.IntegerField()
    discount_monthly = serializers.FloatField()
    scored = serializers.IntegerField()
    bgnbd = BgNbdSerializer(allow_null=True, help_text="Time in weeks; null for a failed run.")
    gamma_gamma = GammaGammaSerializer(allow_null=True)


class ClvAveragesSerializer(serializers.Serializer):
    customers = serializers.IntegerField(help_text="Customers with a value (a completed order).")
    avg_historic = serializers.FloatField(help_text="Average revenue to date.")
    avg_clv_12m = serializers.FloatField(help_text="Average predicted 12-month CLV.")
    avg_p_alive = serializers.FloatField()
    total_clv_12m = serializers.FloatField()


class ClvRfmRowSerializer(ClvAveragesSerializer):
    rfm_segment = serializers.CharField(allow_null=True, help_text="null: no RFM score.")


class ClvSegmentRowSerializer(ClvAveragesSerializer):
    segment_id = serializers.IntegerField()
    name = serializers.CharField()


class ClvOverviewSerializer(serializers.Serializer):
    fit = ClvFitSerializer(allow_null=True, help_text="The latest good fit: customers carry it.")
    last_run = ClvFitSerializer(allow_null=True, help_text="The latest run, failed or not.")
    overall = ClvAveragesSerializer()
    by_rfm_segment = ClvRfmRowSerializer(many=True)
    by_segment = ClvSegmentRowSerializer(
        many=True, help_text=f"The {selectors.SEGMENTS_SHOWN} largest segments by scored members."
    )


class CustomerClvValueSerializer(serializers.Serializer):
    historic_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField()
    repeat_days = serializers.IntegerField(help_text="x: purchase days after the first.")
    recency_days = serializers.IntegerField(help_text="t_x: first to last purchase day, in days.")
    age_days = serializers.IntegerField(help_text="T: first purchase day to the calibration end.")
    mean_repeat_spend = serializers.DecimalField(max_digits=14, decimal_places=2)
    p_alive = serializers.FloatField()
    expected_purchases_12m = serializers.FloatField()
    expected_spend = serializers.DecimalField(max_digits=14, decimal_places=2)
    clv_12m = serializers.DecimalField(max_digits=16, decimal_places=2)
    scored_at = serializers.DateTimeField()


class CustomerClvHorizonSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    expected_purchases = serializers.FloatField()
    clv = serializers.FloatField(help_text="Discounted monthly at the fit's rate.")


class CustomerClvSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    value = CustomerClvValueSerializer(
        allow_null=True, help_text="null: no completed order, or not scored yet."
    )
    horizon = CustomerClvHorizonSerializer(
        allow_null=True, help_text="Over `horizon_months`; null without a value or a fit."
    )
    fit_id = serializers.IntegerField(allow_null=True)


def _fit_body(fit: ClvFit | None) -> dict | None:
    if fit is None:
        return None
    body = {
        field: getattr(fit, field)
        for field in (
            "id",
            "status",
            "error_code",
            "error",
            "calibration_end",
            "fitted_at",
            "duration_seconds",
            "customers",
            "repeat_customers",
            "summary_groups",
            "horizon_months",
            "discount_monthly",
            "scored",
        )
    }
    ok = fit.status == ClvFit.Status.OK
    params = selectors.clv_fit_params(fit) if ok else {"bgnbd": None, "gamma_gamma": None}
    return body | params


def _horizon_months(request) -> int:
    raw = request.query_params.get("horizon_months", "12")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_HORIZON_MONTHS:
        raise ValidationFailed(
            [
                {
                    "field": "horizon_months",
                    "message": f"must be a whole number from 1 to {MAX_HORIZON_MONTHS}",
                }
            ]
        )
    return int(raw)


def customer_clv_horizon(value: CustomerValue, fit: ClvFit, months: int) -> dict:
    """Expected purchases and discounted CLV over `months`, from the stored summary and the fit."""
    bgnbd = BgNbdParams(r=fit.r, alpha=fit.alpha, a=fit.a, b=fit.b, log_likelihood=0)
    spend_params = GammaGammaParams(p=fit.p, q=fit.q, gamma=fit.gamma, log_likelihood=0)
    x = value.repeat_days
    t_x, T = value.recency_days / DAYS_PER_WEEK, value.age_days / DAYS_PER_WEEK
    weeks = months * DAYS_PER_MONTH / DAYS_PER_WEEK
    expected = float(bgnbd_expected_purchases(bgnbd, x, t_x, T, weeks)[0])
    spend = float(gamma_gamma_expected_spend(spend_params, x, float(value.mean_repeat_spend)))
    purchases = discounted_purchases(
        bgnbd, x, t_x, T, months=months, discount_monthly=fit.discount_monthly
    )[0]
    return {
        "months": months,
        "expected_purchases": round(expected, 6),
        "clv": round(float(purchases) * spend, 2),
    }


class CustomerClvView(APIView):
    @extend_schema(
        summary="A customer's lifetime value",
        description="Revenue to date and the nightly prediction: P(alive), expected purchases, "
        "expected spend per purchase and discounted 12-month CLV (BG/NBD + Gamma-Gamma, see "
        "docs/analytics.md), plus the expected purchases and CLV over `horizon_months` "
        "(default 12) computed from the latest fit. `value` is null for a customer without a "
        "completed order.",
        parameters=[
            OpenApiParameter(
                "horizon_months",
                int,
                required=False,
                description=f"1 to {MAX_HORIZON_MONTHS}; default 12",
            )
        ],
        responses={200: CustomerClvSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, external_id: str):
        months = _horizon_months(request)
        customer = customer_get(external_id=external_id)
        value = CustomerValue.objects.filter(customer=customer).first()
        fit = selectors.clv_fit_latest()
        # Values written by an older fit than the latest still belong to that fit's parameters
        # only approximately; the nightly run rewrites everyone, so they agree but for a race.
        horizon = customer_clv_horizon(value, fit, months) if value and fit else None
        return Response(
            CustomerClvSerializer(
                {
                    "external_id": customer.external_id,
                    "value": value,
                    "horizon": horizon,
                    "fit_id": fit.pk if fit else None,
                }
            ).data
        )


class ClvOverviewView(APIView):
    @extend_schema(
        summary="CLV: the fit and the averages by segment",
        description="The latest fit's BG/NBD and Gamma-Gamma parameters and counts, the latest "
        "run (which says why it failed, if it did), and the average revenue to date and "
        "predicted 12-month CLV overall, per RFM segment and per segment.",
        responses={200: ClvOverviewSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        fit = selectors.clv_fit_latest()
        body = {
            "fit": _fit_body(fit),
            "last_run": _fit_body(selectors.clv_attempt_latest()),
            "overall": selectors.clv_overall(),
            "by_rfm_segment": selectors.clv_by_rfm_segment(),
            "by_segment": selectors.clv_by_segment(),
        }
        return Response(ClvOverviewSerializer(body).data)
