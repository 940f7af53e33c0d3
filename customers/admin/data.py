"""Admins for the rest of the customer data: identities, consents, events, products, orders, notes."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.admin.common import (
    MAX_SEARCH_MATCHES,
    CustomerColumnMixin,
    ExactSearchMixin,
    LargeTableAdmin,
    customer_ids_matching,
    search_phone,
)
from customers.admin.customer import ChannelIdentityForm
from customers.models import (
    AttributeDefinition,
    Channel,
    ChannelIdentity,
    Consent,
    ConsentChange,
    ConsentStatus,
    Event,
    Note,
    Order,
    OrderItem,
    Product,
)
from customers.services.consents import consent_set

# --- Customer data -----------------------------------------------------------------------------


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type", "description", "created_at")
    list_filter = ("type",)
    search_fields = ("key", "label")
    fields = ("key", "label", "type", "description", "created_at")
    readonly_fields = ("created_at",)

    def get_readonly_fields(self, request, obj=None):
        # Renaming a key would orphan the values customers hold under the old one.
        return ("key", "created_at") if obj else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"key": ("label",)}


@admin.register(ChannelIdentity)
class ChannelIdentityAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    form = ChannelIdentityForm
    list_display = ("address", "channel", "customer_column", "created_at")
    list_filter = ("channel",)
    list_select_related = ("customer",)
    sortable_by = ()
    ordering = ("-pk",)
    search_fields = ("=address",)
    search_help_text = "An address (a phone in any notation), or the customer's CRM id or email."
    autocomplete_fields = ("customer",)
    fields = ("customer", "channel", "address", "created_at")
    readonly_fields = ("created_at",)

    def search_conditions(self, term: str) -> list[Q]:
        phone = search_phone(term)
        addresses = {term, term.lower(), *([phone] if phone else [])}
        return [
            Q(channel__in=Channel.values, address__in=addresses),
            *super().search_conditions(term),
        ]


class ConsentAdminForm(forms.ModelForm):
    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if self.instance.pk is None and status == ConsentStatus.UNKNOWN:
            raise ValidationError("A channel without a consent is unknown already.")
        return status


@admin.register(Consent)
class ConsentAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    """Saves go through consent_set, so every change lands in the consent log."""

    form = ConsentAdminForm
    list_display = ("customer_column", "channel", "status", "source", "updated_at")
    list_filter = ("channel", "status")
    list_select_related = ("customer",)
    sortable_by = ()
    ordering = ("-pk",)
    search_fields = ("=customer__external_id",)  # served by ExactSearchMixin, without the join
    search_help_text = "The customer's CRM id, email or phone."
    autocomplete_fields = ("customer",)
    fields = ("customer", "channel", "status", "source", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return ("customer", "channel", "updated_at") if obj else ("updated_at",)

    def save_model(self, request, obj, form, change) -> None:
        consent = consent_set(
            customer=obj.customer,
            channel=obj.channel,
            status=obj.status,
            source=obj.source or f"admin:{request.user.get_username()}"[:100],
        )
        obj.pk, obj.source, obj.updated_at = consent.pk, consent.source, consent.updated_at

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a delete would leave no trace in the consent log


@admin.register(ConsentChange)
class ConsentChangeAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    """The append-only consent log: proof of consent, so nobody edits it, here or anywhere."""

    list_display = ("occurred_at", "customer_column", "channel", "previous_status", "status")
    list_display_links = ("occurred_at",)
    list_filter = ("channel", "status", "occurred_at")
    list_select_related = ("customer",)
    sortable_by = ()
    ordering = ("-pk",)
    search_fields = ("=customer__external_id",)
    search_help_text = "The customer's CRM id, email or phone."

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    """Events come from the API; staff read them and may delete junk, but never write them."""

    list_display = ("occurred_at", "name", "customer_column", "source", "event_id")
    list_display_links = ("occurred_at", "name")
    list_filter = ("occurred_at", "received_at")
    list_select_related = ("customer",)
    sortable_by = ()  # only (customer, time) and (name, time) are indexed
    ordering = ("-pk",)
    search_fields = ("=event_id", "=name")
    exact_search_fields = ("event_id", "name")
    search_help_text = "An event id, an event name, or the customer's CRM id, email or phone."

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(LargeTableAdmin):
    list_display = ("sku", "name", "category", "price", "currency", "updated_at")
    search_fields = ("=sku", "name")
    search_help_text = "A SKU, or part of a product name."
    ordering = ("sku",)
    readonly_fields = ("updated_at",)
    # A product link typed without a scheme is an https one (Django 6's default, said now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


# --- Orders ------------------------------------------------------------------------------------


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ("sku", "name", "category", "quantity", "price", "product")
    autocomplete_fields = ("product",)
    extra = 0


@admin.register(Order)
class OrderAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    list_display = (
        "external_id",
        "customer_column",
        "status",
        "total",
        "currency",
        "placed_at",
        "promo_code",
    )
    list_filter = ("status", "placed_at")
    list_select_related = ("customer",)
    sortable_by = ("placed_at",)
    ordering = ("-placed_at",)
    search_fields = ("=external_id", "=promo_code")
    exact_search_fields = ("external_id", "promo_code")
    search_help_text = "An order id, a promo code, or the customer's CRM id, email or phone."
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (OrderItemInline,)

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_at = timezone.now()  # so "changed since" syncs pick the edit up
        super().save_model(request, obj, form, change)


@admin.register(OrderItem)
class OrderItemAdmin(ExactSearchMixin, LargeTableAdmin):
    list_display = ("__str__", "order", "name", "price", "product")
    list_select_related = ("order", "product")
    sortable_by = ()
    ordering = ("-pk",)
    search_fields = ("=sku", "=order__external_id")
    search_help_text = "A SKU, an order id, or the customer's CRM id, email or phone."
    autocomplete_fields = ("order", "product")
    customer_field = None

    def search_conditions(self, term: str) -> list[Q]:
        # Order ids first, so the item query ORs two indexed conditions instead of joining orders.
        orders = Q(external_id=term)
        customer_ids = customer_ids_matching(term)
        if customer_ids:
            orders |= Q(customer_id__in=customer_ids)
        order_ids = list(
            Order.objects.filter(orders).values_list("pk", flat=True)[:MAX_SEARCH_MATCHES]
        )
        return [Q(sku=term), *([Q(order_id__in=order_ids)] if order_ids else [])]


@admin.register(Note)
class NoteAdmin(CustomerColumnMixin, ExactSearchMixin, LargeTableAdmin):
    list_display = ("created_at", "customer_column", "author", "excerpt")
    list_filter = ("created_at",)
    list_select_related = ("customer", "author")
    sortable_by = ()
    ordering = ("-pk",)
    search_fields = ("=customer__external_id",)
    search_help_text = "The customer's CRM id, email or phone."
    autocomplete_fields = ("customer",)
    fields = ("customer", "body", "author", "created_at")
    readonly_fields = ("author", "created_at")

    @admin.display(description="note")
    def excerpt(self, note: Note) -> str:
        return str(note)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)
