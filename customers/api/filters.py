import contextlib

import django_filters
from django.db.models import Q
from rest_framework.exceptions import ValidationError

from api.filters import StrictFilterSet, UtcIsoDateTimeFilter
from customers.models import Customer
from customers.normalize import normalize_phone


class CustomerFilter(StrictFilterSet):
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="ISO 8601; customers changed since."
    )
    email = django_filters.CharFilter(method="filter_email", help_text="Exact, case-insensitive.")
    phone = django_filters.CharFilter(
        method="filter_phone", help_text="Any common notation; compared in E.164."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Part of a name or email, or an exact phone or external id.",
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=value.strip().lower())

    def filter_phone(self, queryset, name, value):
        try:
            return queryset.filter(phone=normalize_phone(value))
        except ValueError as exc:
            raise ValidationError({"phone": [str(exc)]}) from None

    def filter_search(self, queryset, name, value):
        value = value.strip()
        condition = (
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(external_id=value)
        )
        with contextlib.suppress(ValueError):
            condition |= Q(phone=normalize_phone(value))
        return queryset.filter(condition)
