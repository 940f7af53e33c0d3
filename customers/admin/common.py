"""Pieces every customers admin shares: index-friendly search, estimated counts, filters."""

import operator
import re
from functools import reduce

from django import forms
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from api.cache import cache_or_fallback
from customers.admin.pagination import EstimatedCountPaginator
from customers.models import (
    Channel,
    ChannelIdentity,
    Customer,
)
from customers.normalize import (
    normalize_phone,
)

# Exact-match searches resolve to id lists this long at most, so the final query stays an index scan.
MAX_SEARCH_MATCHES = 1000
LOCALES_CACHE_KEY = "admin:customers:locales"
LOCALES_CACHE_SECONDS = 600
MAX_LOCALE_CHOICES = 100
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{7,}$")


# --- Search ------------------------------------------------------------------------------------


def search_phone(term: str) -> str | None:
    """The E.164 form of a search term written as a phone ("8 916 123-45-67"), else None."""
    if not _PHONE_LIKE.match(term) or sum(c.isdigit() for c in term) < 7:
        return None
    try:
        return normalize_phone(term)
    except ValueError:
        return None


def customer_ids_matching(term: str) -> list[int]:
    """Customers whose CRM id, email, phone or any channel address is exactly `term`."""
    phone = search_phone(term)
    condition = Q(external_id=term) | Q(email=term.lower())
    if phone:
        condition |= Q(phone=phone)
    ids = set(Customer.objects.filter(condition).values_list("pk", flat=True)[:MAX_SEARCH_MATCHES])
    # Naming every channel lets the (channel, address) unique index serve an address-only search.
    addresses = {term, term.lower(), *([phone] if phone else [])}
    ids.update(
        ChannelIdentity.objects.filter(
            channel__in=Channel.values, address__in=addresses
        ).values_list("customer_id", flat=True)[:MAX_SEARCH_MATCHES]
    )
    return sorted(ids)


class ExactSearchMixin:
    """Search by exact ids only, each served by an index, and by the customer's CRM id/email/phone.

    The default admin search ORs `icontains` over every field (and over joins), which reads the
    whole table. Here each condition is an equality on an indexed column or a short id list.
    """

    exact_search_fields: tuple[str, ...] = ()
    customer_field: str | None = "customer_id"

    def search_conditions(self, term: str) -> list[Q]:
        conditions = [Q(**{name: term}) for name in self.exact_search_fields]
        if self.customer_field:
            customer_ids = customer_ids_matching(term)
            if customer_ids:
                conditions.append(Q(**{f"{self.customer_field}__in": customer_ids}))
        return conditions

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        conditions = self.search_conditions(term)
        if not conditions:
            return queryset.none(), False
        return queryset.filter(reduce(operator.or_, conditions)), False


# --- Shared pieces -----------------------------------------------------------------------------


class LargeTableAdmin(admin.ModelAdmin):
    """For tables that reach millions of rows: estimated counts, no total count, no facets."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


def customer_link(customer: Customer | None) -> str:
    if customer is None:
        return "—"
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer)


class CustomerColumnMixin:
    @admin.display(description="customer")
    def customer_column(self, obj) -> str:
        return customer_link(obj.customer)


class LocaleFilter(admin.SimpleListFilter):
    """Locales in use. Finding them reads the whole table, so the list is cached for a while."""

    title = "locale"
    parameter_name = "locale"

    def lookups(self, request, model_admin):
        locales = cache_or_fallback(
            lambda: cache.get_or_set(LOCALES_CACHE_KEY, _locales_in_use, LOCALES_CACHE_SECONDS),
            fallback=_locales_in_use,
            purpose="admin locale filters",
        )
        # A locale newer than the cached list must still filter, not be silently dropped.
        if self.value() and self.value() not in locales:
            locales = [*locales, self.value()]
        return [(locale, locale) for locale in locales]

    def queryset(self, request, queryset):
        return queryset.filter(locale=self.value()) if self.value() else queryset


def _locales_in_use() -> list[str]:
    return list(
        Customer.objects.exclude(locale="")
        .order_by("locale")
        .values_list("locale", flat=True)
        .distinct()[:MAX_LOCALE_CHOICES]
    )


class ErasedFilter(admin.SimpleListFilter):
    title = "GDPR erasure"
    parameter_name = "erased"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Erased")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(erased_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(erased_at__isnull=False)
        return queryset


def normalized_field(form: forms.ModelForm, name: str, normalize) -> str:
    value = form.cleaned_data.get(name) or ""
    if not value:
        return value
    try:
        return normalize(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
