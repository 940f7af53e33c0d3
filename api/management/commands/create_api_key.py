from django.core.management.base import BaseCommand, CommandError

from api.models import DEFAULT_API_SCOPES, ApiScope
from api.services import api_key_create, api_scopes_clean


class Command(BaseCommand):
    help = "Create an API key and print it once. Only its hash is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'amoCRM sync'.")
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            choices=ApiScope.values,
            help=f"repeat for several; default: {' '.join(DEFAULT_API_SCOPES)} "
            f"({ApiScope.GDPR_ERASE} only when asked for)",
        )

    def handle(self, *args, name: str, scopes: list[str] | None, **options) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        try:
            scopes = api_scopes_clean(scopes or DEFAULT_API_SCOPES)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        api_key, raw_key = api_key_create(name=name.strip(), scopes=scopes)
        self.stderr.write(
            f"Created API key {api_key.name!r} with scopes {' '.join(scopes)}. It is shown once:"
        )
        self.stdout.write(raw_key)
