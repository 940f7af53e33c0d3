from django.core.management.base import BaseCommand

from campaigns.message_templates.demo import message_templates_demo_load


class Command(BaseCommand):
    help = "Load campaigns demo data (templates; promo, loyalty, recommendations add theirs)."

    def handle(self, *args, **options) -> None:
        templates = message_templates_demo_load()
        self.stdout.write(self.style.SUCCESS(f"Campaigns demo: {templates} templates."))
