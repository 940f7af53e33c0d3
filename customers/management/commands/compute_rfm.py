from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from customers.models import RfmScore, RfmSegment
from customers.services.rfm import RfmSettingsInvalid, rfm_compute


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Compute every customer's RFM scores and segment from their counted orders "
        "(cancelled and refunded orders excluded). The beat job does this nightly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--as-of",
            type=_iso_date,
            default=None,
            help="Score as of the end of this day (UTC), YYYY-MM-DD; default today.",
        )

    def handle(self, *args, as_of: date | None = None, **options) -> None:
        as_of = as_of or timezone.now().date()
        try:
            result = rfm_compute(as_of=as_of)
        except RfmSettingsInvalid as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Scored {result.scored} customers as of {result.as_of.isoformat()} in "
            f"{result.duration_seconds:.2f} s: {result.changed} changed segment, "
            f"{result.removed} lost their score."
        )
        counts = dict(RfmScore.objects.values_list("segment").annotate(n=Count("*")).order_by())
        for segment in RfmSegment:
            self.stdout.write(f"  {segment.label:<20} {counts.get(segment.value, 0):>8}")
