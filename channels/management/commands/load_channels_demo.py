from django.core.management.base import BaseCommand

from channels.demo import channels_demo_load


class Command(BaseCommand):
    help = (
        "Load channels demo data (auto-replies, quiet hours, a demo campaign to the sandbox, "
        "conversations, calls) once, after load_demo_data."
    )

    def handle(self, *args, **options) -> None:
        result = channels_demo_load()
        if not result.loaded:
            self.stdout.write("Channels demo data is already there; nothing loaded.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Channels demo: {result.messages} messages queued for the sandbox outbox, "
                f"{result.conversations} conversations, {result.calls} calls."
            )
        )
