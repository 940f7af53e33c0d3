from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.clv.services import clv_refresh, clv_segments_refresh


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Fit BG/NBD and Gamma-Gamma on every customer's completed orders and write each "
        "customer's CLV, P(alive) and expected purchases. The beat job does this nightly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--calibration-end",
            type=_iso_date,
            default=None,
            help="Use orders up to the end of this day (UTC), YYYY-MM-DD; default today.",
        )

    def handle(self, *args, calibration_end: date | None = None, **options) -> None:
        fit = clv_refresh(calibration_end=calibration_end)
        if fit.status != fit.Status.OK:
            raise CommandError(f"No fit as of {fit.calibration_end.isoformat()}: {fit.error}")
        refreshed = clv_segments_refresh()
        self.stdout.write(
            f"Fitted on {fit.customers} customers ({fit.repeat_customers} repeat, "
            f"{fit.summary_groups} distinct summaries) as of {fit.calibration_end.isoformat()} "
            f"and scored {fit.scored} in {fit.duration_seconds:.2f} s."
        )
        self.stdout.write(
            f"  BG/NBD       r={fit.r:.4f} alpha={fit.alpha:.4f} a={fit.a:.4f} b={fit.b:.4f} "
            f"(log-likelihood {fit.bgnbd_log_likelihood:.2f})"
        )
        self.stdout.write(
            f"  Gamma-Gamma  p={fit.p:.4f} q={fit.q:.4f} gamma={fit.gamma:.4f} "
            f"(log-likelihood {fit.gamma_gamma_log_likelihood:.2f})"
        )
        self.stdout.write(f"  {refreshed} segments using CLV refreshed.")
