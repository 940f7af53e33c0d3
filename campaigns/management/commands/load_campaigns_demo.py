from django.core.management.base import BaseCommand

from campaigns.broadcasts.demo import broadcasts_demo_load
from campaigns.journeys.demo import journeys_demo_load
from campaigns.loyalty.demo import loyalty_demo_load
from campaigns.message_templates.demo import message_templates_demo_load
from campaigns.planning.demo import planning_demo_load
from campaigns.promo.demo import promo_demo_load
from campaigns.recommendations.demo import recommendations_demo_load


class Command(BaseCommand):
    help = (
        "Load campaigns demo data through the services: templates, a promo pool, loyalty points,"
        " recommendations, a sent broadcast with an A/B result, live journeys with their runs."
    )

    def handle(self, *args, **options) -> None:
        templates = message_templates_demo_load()
        pool = promo_demo_load()
        points = loyalty_demo_load()
        picks = recommendations_demo_load()
        broadcast = broadcasts_demo_load()
        cjm, strategy = planning_demo_load()
        journeys = journeys_demo_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Campaigns demo: {templates} templates, promo pool '{pool.name}', "
                f"loyalty points: {points}, recommendations: {sum(picks.counts.values())}, "
                f"broadcast: {broadcast.name if broadcast else 'none (no sandbox)'}, "
                f"journey map '{cjm.name}', strategy '{strategy.name}', "
                f"journeys: {len(journeys)}."
            )
        )
