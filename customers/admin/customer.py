"""The customer admin: profile edits through the services, the timeline, GDPR erase."""

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse

from customers.admin.common import (
    ErasedFilter,
    LargeTableAdmin,
    LocaleFilter,
    customer_ids_matching,
    normalized_field,
    search_phone,
)
from customers.api.schemas import CustomerIn, CustomerPatch
from customers.models import (
    ChannelIdentity,
    Consent,
    Customer,
)
from customers.normalize import (
    normalize_address,
    normalize_email,
    normalize_locale,
    normalize_phone,
    normalize_timezone,
)
from customers.services.attributes import attribute_types, attributes_merge
from customers.services.customers import (
    ADDRESS_FIELDS,
    PROFILE_FIELDS,
    customer_create,
    customer_update,
)
from customers.services.gdpr import customer_erase
from customers.timeline import InvalidCursor, customer_timeline

TIMELINE_PAGE_SIZE = 50
# More than this in one erase is more likely a mis-click on "select all" than a request.
MAX_ERASE_PER_ACTION = 100
# Where each timeline kind customers/ owns is shown in the admin; other apps' kinds get no link.
TIMELINE_ADMIN_URLS = {
    "event": "admin:customers_event_change",
    "order": "admin:customers_order_change",
    "consent_change": "admin:customers_consentchange_change",
    "note": "admin:customers_note_change",
}

# --- Customers ---------------------------------------------------------------------------------


class CustomerAdminForm(forms.ModelForm):
    """Puts profile fields into canonical form and checks them as the customer services would."""

    def clean_email(self) -> str:
        return normalized_field(self, "email", normalize_email)

    def clean_phone(self) -> str:
        return normalized_field(self, "phone", normalize_phone)

    def clean_locale(self) -> str:
        return normalized_field(self, "locale", normalize_locale)

    def clean_timezone(self) -> str:
        return normalized_field(self, "timezone", normalize_timezone)

    def clean_attributes(self) -> dict[str, Any]:
        attributes = self.cleaned_data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ValidationError('Enter a JSON object, e.g. {"city": "Moscow"}.')
        merged, problems = attributes_merge({}, attributes, attribute_types())
        if problems:
            raise ValidationError([f"{key} {problem}" for key, problem in problems])
        return merged

    def clean(self):
        cleaned = super().clean()
        # The service would refuse an address another customer holds; say so on the field.
        for name, channel in ADDRESS_FIELDS.items():
            address = cleaned.get(name)
            if not address or name not in self.changed_data:
                continue
            owner = (
                ChannelIdentity.objects.filter(channel=channel, address=address)
                .exclude(customer_id=self.instance.pk)
                .select_related("customer")
                .first()
            )
            if owner:
                self.add_error(name, f"{address} belongs to customer {owner.customer}.")
        return cleaned


class ChannelIdentityForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        channel, address = cleaned.get("channel"), cleaned.get("address")
        if channel and address:
            try:
                cleaned["address"] = normalize_address(channel, address)
            except ValueError as exc:
                self.add_error("address", str(exc))
        return cleaned


class ChannelIdentityInline(admin.TabularInline):
    model = ChannelIdentity
    form = ChannelIdentityForm
    fields = ("channel", "address", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


class ConsentInline(admin.TabularInline):
    """Read-only here; the change link opens the consent form, which saves through consent_set."""

    model = Consent
    fields = ("channel", "status", "source", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(LargeTableAdmin):
    form = CustomerAdminForm
    list_display = (
        "display_name",
        "email",
        "phone",
        "external_id",
        "lifecycle_stage",
        "locale",
        "created_at",
        "updated_at",
        "is_erased",
    )
    list_display_links = ("display_name", "external_id")
    sortable_by = ("email", "phone", "external_id", "created_at", "updated_at")  # indexed
    ordering = ("-pk",)
    list_filter = (
        "lifecycle_stage",
        LocaleFilter,
        "created_at",
        "updated_at",
        ErasedFilter,
    )
    # Trigram indexes serve these (migration 0002); ids, phones and addresses are matched exactly
    # in get_search_results.
    search_fields = ("first_name", "last_name", "email")
    search_help_text = (
        "Name, email or part of one, a phone in any notation, the CRM id, or any channel address."
    )
    fieldsets = (
        (None, {"fields": ("external_id", "first_name", "last_name", "email", "phone")}),
        (
            "Profile",
            {"fields": ("lifecycle_stage", "locale", "timezone", "birth_date", "attributes")},
        ),
        ("Record", {"fields": ("created_at", "updated_at", "erased_at")}),
    )
    readonly_fields = ("created_at", "updated_at", "erased_at")
    inlines = (ChannelIdentityInline, ConsentInline)
    actions = ("erase_personal_data",)

    @admin.display(description="name")
    def display_name(self, customer: Customer) -> str:
        return customer.full_name or "—"

    @admin.display(description="erased", boolean=True)
    def is_erased(self, customer: Customer) -> bool:
        return customer.is_erased

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        exact_ids = customer_ids_matching(term)
        if search_phone(term):
            # Word-by-word matching of "8 916 123-45-67" against names would find nonsense.
            return queryset.filter(pk__in=exact_ids), False
        found, may_have_duplicates = super().get_search_results(request, queryset, term)
        if exact_ids:
            found |= queryset.filter(pk__in=exact_ids)
        return found, may_have_duplicates

    def get_readonly_fields(self, request, obj=None):
        # The CRM id is the key integrations address the customer by.
        return (*self.readonly_fields, "external_id") if obj else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # An erased profile stays erased; editing it would bring personal data back.
        if obj is not None and obj.is_erased:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Orders PROTECT their customer and the consent log must outlive it: erase instead.
        return False

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    def save_model(self, request, obj, form, change) -> None:
        values = {
            name: form.cleaned_data[name]
            for name in (*PROFILE_FIELDS, "attributes")
            if name in form.changed_data
        }
        if "attributes" in values and change:
            # The form holds the whole dict; the service merges, where null removes a key.
            stored = Customer.objects.values_list("attributes", flat=True).get(pk=obj.pk) or {}
            values["attributes"] = {
                **dict.fromkeys(set(stored) - set(values["attributes"])),
                **values["attributes"],
            }
        if change:
            if values:
                data = CustomerPatch.model_construct(_fields_set=set(values), **values)
                customer_update(customer=obj, data=data, source="admin")
            return
        data = CustomerIn.model_construct(
            _fields_set={"external_id", *values}, external_id=obj.external_id, **values
        )
        obj.pk = customer_create(data=data, source="admin").pk
        obj.refresh_from_db()
        obj._state.adding = False

    # --- Change page: timeline and links ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            customer_id = int(unquote(object_id))
        except ValueError:
            customer_id = None
        extra_context = {
            **(extra_context or {}),
            # Called by the template only when the page is rendered (not after a save).
            "timeline": partial(self._timeline, request, customer_id),
            "can_erase": self.has_erase_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _timeline(self, request, customer_id: int | None) -> dict[str, Any]:
        if customer_id is None:
            return {"rows": [], "older_url": None}
        try:
            page = customer_timeline(
                customer_id,
                cursor=request.GET.get("timeline_cursor") or None,
                limit=TIMELINE_PAGE_SIZE,
            )
        except InvalidCursor:
            page = customer_timeline(customer_id, limit=TIMELINE_PAGE_SIZE)
        rows = []
        for entry in page.entries:
            try:
                url = reverse(TIMELINE_ADMIN_URLS[entry.kind], args=[entry.id])
            except (KeyError, NoReverseMatch):
                url = None
            rows.append({"entry": entry, "kind": entry.kind.replace("_", " "), "url": url})
        older_url = f"?timeline_cursor={page.next_cursor}" if page.next_cursor else None
        return {"rows": rows, "older_url": older_url}

    # --- GDPR erase instead of delete ---

    def get_urls(self):
        erase = path(
            "<path:object_id>/erase/",
            self.admin_site.admin_view(self.erase_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_erase",
        )
        return [erase, *super().get_urls()]  # before the catch-all "<path:object_id>/"

    @admin.action(description="Erase personal data (GDPR)", permissions=["erase"])
    def erase_personal_data(self, request, queryset: QuerySet[Customer]):
        customers = list(queryset.filter(erased_at__isnull=True)[: MAX_ERASE_PER_ACTION + 1])
        if len(customers) > MAX_ERASE_PER_ACTION:
            self.message_user(
                request,
                f"Select at most {MAX_ERASE_PER_ACTION} customers to erase at once.",
                messages.ERROR,
            )
            return None
        if not customers:
            self.message_user(request, "The selected customers are erased already.")
            return None
        if request.POST.get("confirm") == "yes":
            self._erase(request, customers)
            return None
        return self._erase_confirmation(request, customers, action="erase_personal_data")

    def erase_view(self, request, object_id):
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_erase_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:customers_customer_change", args=[customer.pk])
        if customer.is_erased:
            self.message_user(request, "This customer is erased already.")
            return redirect(change_url)
        if request.method == "POST":
            self._erase(request, [customer])
            return redirect(change_url)
        return self._erase_confirmation(request, [customer], action=None)

    def _erase(self, request, customers: list[Customer]) -> None:
        for customer in customers:
            customer_erase(customer=customer)
            # Logged after the erase, so the admin log names the erased row, not the person.
            self.log_change(request, customer, "Erased personal data (GDPR).")
        self.message_user(
            request, f"Erased the personal data of {len(customers)} customer(s).", messages.SUCCESS
        )

    def _erase_confirmation(self, request, customers: list[Customer], *, action: str | None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data?",
            "opts": self.opts,
            "customers": customers,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/customers/customer/erase_confirmation.html", context
        )
