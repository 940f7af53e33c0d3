"""Pieces every batch upsert shares: the result counts, duplicate checks, customer resolution."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models

from customers.models import Customer


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # External ids of customers that events or orders named and that did not exist yet.
    customers_created: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "customers_created": self.customers_created,
        }


def duplicate_key_errors(keys: Iterable[str], field_name: str) -> list[dict[str, Any]]:
    first_index: dict[str, int] = {}
    errors = []
    for index, key in enumerate(keys):
        if key in first_index:
            errors.append(
                {
                    "index": index,
                    "field": field_name,
                    "message": f"duplicate {field_name} '{key}', already at index {first_index[key]}",
                }
            )
        else:
            first_index[key] = index
    return errors


def customers_resolve_or_create(
    external_ids: Iterable[str], *, now: datetime
) -> tuple[dict[str, int], list[str]]:
    """Map external ids to customer ids, creating a bare customer for each unknown id (as CDPs do).

    Returns the map and the external ids that were created.
    """
    wanted = sorted(set(external_ids))
    found = dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "id"))
    missing = [external_id for external_id in wanted if external_id not in found]
    if missing:
        Customer.objects.bulk_create(
            [Customer(external_id=e, created_at=now, updated_at=now) for e in missing],
            ignore_conflicts=True,  # a concurrent batch may create the same customer
        )
        found.update(
            Customer.objects.filter(external_id__in=missing).values_list("external_id", "id")
        )
    return found, missing


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


def copy_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows with PostgreSQL's COPY, inside the caller's transaction.

    Each row holds what `model(**row)` would be given; every row has the same keys. For 1,000-row
    batches bulk_create spends most of its time in Python (a model instance per row, a prepare
    call per value, psycopg quoting each element of the UNNEST arrays); COPY sends the values as
    they are. JSON fields are adapted as the ORM adapts them. A violated constraint raises
    IntegrityError.
    """
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    json_fields = {f.name: f for f in fields if isinstance(f, models.JSONField)}
    quote = connection.ops.quote_name
    statement = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    )
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            for name, json_field in json_fields.items():
                row = {**row, name: json_field.get_db_prep_save(row[name], connection)}
            copy.write_row(tuple(row.values()))
