"""The nightly CLV run (beat: analytics/periodic_tasks.py)."""

from datetime import date

from celery import shared_task

from analytics.clv import services


@shared_task
def clv_refresh(calibration_end: str | None = None) -> dict:
    """Fit and score everyone (as of today, UTC, unless a YYYY-MM-DD is given), then refresh the
    segments whose rules read CLV values."""
    fit = services.clv_refresh(
        calibration_end=date.fromisoformat(calibration_end) if calibration_end else None
    )
    refreshed = services.clv_segments_refresh() if fit.status == fit.Status.OK else 0
    return {
        "fit_id": fit.pk,
        "status": fit.status,
        "error": fit.error,
        "scored": fit.scored,
        "duration_seconds": fit.duration_seconds,
        "segments_refreshed": refreshed,
    }
