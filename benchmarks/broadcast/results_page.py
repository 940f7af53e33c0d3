"""The broadcast's results page (its own page once launched: `campaigns:broadcast`,
`/app/campaigns/broadcasts/<id>/`), as staff open it once the broadcast has gone out.

`broadcast_stats_refresh` (the rollup the page reads) runs first and is timed on its own. The page
is then requested through Django's test Client in this process, signed in as a superuser, with
DEBUG off (as `benchmarks.pages` does): server time without a network in between.
"""

from __future__ import annotations

import statistics
from time import perf_counter

from benchmarks.pages.measure import _percentile

WARMUP = 3


def measure(broadcast, user, requests: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    from campaigns.broadcasts.services.results import broadcast_stats_refresh

    started = perf_counter()
    broadcast_stats_refresh(broadcast)
    refresh_seconds = perf_counter() - started
    # A launched broadcast's own page is its results page.
    url = reverse("campaigns:broadcast", args=[broadcast.pk])
    client = Client()
    client.force_login(user)
    times = []
    for number in range(WARMUP + requests):
        started = perf_counter()
        response = client.get(url)
        elapsed = perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if number >= WARMUP:
            times.append(elapsed * 1000)
    return {
        "url": url,
        "stats_refresh_seconds": round(refresh_seconds, 2),
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
    }
