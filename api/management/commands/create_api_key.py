from django.core.management.base import BaseCommand, CommandError

from api.models import ApiKey
from api.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it once. Only its hash is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'amoCRM sync'.")
        parser.add_argument(
            "--scope",
            choices=ApiKey.Scope.values,
            default=ApiKey.Scope.WRITE,
            help="default: write",
        )

    def handle(self, *args, name: str, scope: str, **options) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        api_key, raw_key = api_key_create(name=name.strip(), scope=scope)
        self.stderr.write(f"Created API key {api_key.name!r} with scope {scope}. It is shown once:")
        self.stdout.write(raw_key)
