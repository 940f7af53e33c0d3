"""`manage.py journeys_tick`: one tick of the journey engine, here and now (beat runs it every
few seconds): start due schedule/date runs, then advance every run whose time has come."""

from django.core.management.base import BaseCommand

from campaigns.journeys.services.tick import journeys_tick


class Command(BaseCommand):
    help = "Run one tick of the journey engine now."

    def handle(self, *args, **options) -> None:
        result = journeys_tick(inline=True)
        self.stdout.write(f"started {result['started']} runs, advanced {result['advanced']}")
