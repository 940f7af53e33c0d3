"""Dashboards part: every analytics page's server time, and the retrospective forecast.

The rollups are rebuilt first (unless the rollups part already ran) and attribution is rebuilt, so
the pages read what a live workspace has. Each page is requested through Django's test client,
signed in as a superuser, `PAGE_RUNS` times after one untimed request; the figure is the p95 of the
server time. The baseline, measured in the same run, is the Django admin's order list (the pages
benchmark's reference). The forecast (retention, 90 days, from the same window a year earlier and
before) is timed by itself, p95 of `FORECAST_RUNS`.

    python -m benchmarks.analytics --only dashboards [--scale 0.01]
"""

from time import perf_counter

from benchmarks.report import goal

NAME = "dashboards"
NEEDS_EVENTS = False
PAGE_RUNS = 10
FORECAST_RUNS = 5
PAGE_GOAL_MS = 300
FORECAST_GOAL_S = 2.0
PAGES = [
    ("overview, 12 months", "/app/analytics/"),
    ("channel performance, 90 days", "/app/analytics/channels/"),
    ("cohorts, 12 months", "/app/analytics/cohorts/"),
    ("attribution, last touch by broadcast", "/app/analytics/attribution/"),
    ("customer lifetime value", "/app/analytics/clv/"),
    ("surveys", "/app/analytics/surveys/"),
    ("goals", "/app/analytics/goals/"),
    ("forecast page, retention 90 days", None),  # the URL needs the run's date
]
BASELINE = ("baseline: Django admin order list", "/admin/customers/order/")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _page_ms(client, url: str) -> tuple[float, int]:
    client.get(url)  # untimed: caches warm, as for a user's second look
    times, status = [], 0
    for _ in range(PAGE_RUNS):
        started = perf_counter()
        response = client.get(url)
        times.append((perf_counter() - started) * 1000)
        status = response.status_code
    return _p95(times), status


def run(bench) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from analytics.attribution.services import attribution_rebuild
    from analytics.forecast.service import forecast_compute
    from analytics.models import DailyRollup
    from analytics.rollups.refresh import rollups_rebuild

    result: dict = {}
    if not DailyRollup.objects.exists():
        started = perf_counter()
        rollups_rebuild()
        print(f"\nDashboards: rollups rebuilt in {perf_counter() - started:.1f} s")
    started = perf_counter()
    attribution_rebuild()
    result["attribution_rebuild_s"] = round(perf_counter() - started, 1)
    print(f"Dashboards: attribution rebuilt in {result['attribution_rebuild_s']:.1f} s")

    user, _ = get_user_model().objects.get_or_create(
        username="bench-analytics", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    launch = bench.anchor.date()
    forecast_url = (
        f"/app/analytics/forecast/?metric=retention&launch={launch.isoformat()}"
        "&horizon_days=90&activity_days=180"
    )
    result["pages_ms"], result["status"] = {}, {}
    print(f"\nDashboards: p95 of {PAGE_RUNS} requests each")
    for label, url in [BASELINE, *PAGES]:
        ms, status = _page_ms(client, url or forecast_url)
        result["pages_ms"][label], result["status"][label] = round(ms, 1), status
        print(f"  {label:<40} p95 {ms:8.1f} ms  (HTTP {status})")

    times = []
    for _ in range(FORECAST_RUNS):
        started = perf_counter()
        forecast = forecast_compute(metric="retention", launch=launch, horizon_days=90)
        times.append(perf_counter() - started)
    result["forecast_s"] = round(_p95(times), 3)
    result["forecast_periods"] = len(forecast.periods)
    print(
        f"  forecast_compute: p95 {result['forecast_s']:.2f} s over "
        f"{result['forecast_periods']} earlier period(s), base {forecast.current_base:,}"
    )
    return result


def goals(result: dict) -> list[dict]:
    rows = []
    for label, ms in result["pages_ms"].items():
        if label == BASELINE[0]:
            rows.append(goal(label, ms, "ms"))
        else:
            rows.append(goal(f"page: {label}", ms, "ms", f"≤ {PAGE_GOAL_MS}", ms <= PAGE_GOAL_MS))
    rows.append(
        goal(
            "forecast: retention, 90 days",
            result["forecast_s"],
            "s",
            f"≤ {FORECAST_GOAL_S:g}",
            result["forecast_s"] <= FORECAST_GOAL_S,
        )
    )
    return rows


def ok(result: dict) -> bool:
    return all(status == 200 for status in result["status"].values())
