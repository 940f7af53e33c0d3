from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.errors import ValidationFailed
from customers.demo import DEFAULT_CUSTOMERS, DEMO_PREFIX, demo_data_load


class Command(BaseCommand):
    help = (
        "Load demo customers, events and orders (18 months of a shop) once. "
        f"Does nothing if customers with external_id '{DEMO_PREFIX}…' exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"how many customers to create (default: {DEFAULT_CUSTOMERS})",
        )

    def handle(self, *args, customers: int, **options) -> None:
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        try:
            result = demo_data_load(customers=customers)
        except ValidationFailed as exc:
            # Most likely an attribute staff defined with another type than the demo expects.
            raise CommandError(
                f"Demo data was rejected, nothing stored: {exc.errors[:5]}"
            ) from None
        if not result.loaded:
            self.stdout.write(
                f"Demo data is already there (customers with external_id '{DEMO_PREFIX}…'); "
                "nothing loaded."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded demo data in {result.seconds:.1f} s: {result.customers:,} customers, "
                f"{result.identities:,} channel identities, {result.consents:,} consents, "
                f"{result.events:,} events, {result.orders:,} orders."
            )
        )
