from django.core.management.base import BaseCommand

from analytics.demo import surveys_demo_load
from analytics.goals.demo import goals_demo_load


class Command(BaseCommand):
    help = (
        "Load analytics demo data through the services: NPS, CSAT and CES surveys sent and "
        "answered over the past nine months, and three goals (run after load_demo_data, "
        "load_channels_demo and load_campaigns_demo)."
    )

    def handle(self, *args, **options) -> None:
        loaded = surveys_demo_load()
        goals = goals_demo_load()
        if not loaded and not goals:
            self.stdout.write("Analytics demo: already loaded (or no customers).")
            return
        summary = ", ".join(f"{name}: {n} answers" for name, n in loaded.items())
        self.stdout.write(self.style.SUCCESS(f"Analytics demo: {summary}; {goals} goals."))
