import time
from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand

from analytics.rollups.refresh import rollups_rebuild


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Recompute the analytics rollups from scratch: every customer's cohort, then every day "
        "(from --from, rounded down to its month) to today. The beat job keeps them current after."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--from",
            dest="from_day",
            type=_iso_date,
            default=None,
            help="Recompute days from this date, YYYY-MM-DD; default the first day with data.",
        )

    def handle(self, *args, from_day: date | None = None, **options) -> None:
        started = time.monotonic()
        result = rollups_rebuild(from_day=from_day)
        self.stdout.write(
            f"Rebuilt {result.customers} customers, {result.days} days and {result.months} "
            f"cohort months in {time.monotonic() - started:.1f} s."
        )
