from django.core.management.base import BaseCommand

from api.periodic import declared_periodic_jobs, periodic_tasks_sync


class Command(BaseCommand):
    help = "Create or update the beat schedule from the jobs declared in <app>/periodic_tasks.py."

    def handle(self, *args, **options) -> None:
        created = periodic_tasks_sync()
        self.stdout.write(
            f"{len(declared_periodic_jobs())} periodic job(s) in sync; {len(created)} new."
        )
