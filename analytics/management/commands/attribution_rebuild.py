from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from analytics.attribution.services import attribution_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the attribution of every order (or of those placed since --since) to the"
        " messages that touched it, under each model. Needed after changing a channel's rule by"
        " hand or loading orders that bypassed the orders API; the minute task keeps it current"
        " otherwise."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="only orders placed on or after this date (YYYY-MM-DD)")

    def handle(self, *args, since: str | None = None, **options) -> None:
        start = None
        if since:
            day = parse_date(since)
            if day is None:
                raise CommandError("--since: give a date as YYYY-MM-DD")
            start = timezone.make_aware(
                datetime.combine(day, time.min), timezone.get_current_timezone()
            )
        done = attribution_rebuild(start)
        self.stdout.write(self.style.SUCCESS(f"Attribution: {done} orders recomputed."))
