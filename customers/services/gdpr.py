from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from customers.models import ChannelIdentity, Customer, Event, Note


@transaction.atomic
def customer_erase(*, customer: Customer) -> Customer:
    """Erase a customer's personal data (GDPR art. 17).

    Wiped: profile fields, attributes, addresses, events, notes and names in the admin history. Kept: the bare row (so orders
    stay in revenue figures, anonymised) and the consent log (proof of consent). The CRM id is
    replaced, so the CRM may later create a new customer under it without reviving this one.
    """
    Event.objects.filter(customer=customer).delete()
    Note.objects.filter(customer=customer).delete()
    ChannelIdentity.objects.filter(customer=customer).delete()
    now = timezone.now()
    customer.external_id = f"erased:{customer.pk}"
    customer.email = customer.phone = customer.first_name = customer.last_name = ""
    customer.locale = customer.timezone = customer.lifecycle_stage = ""
    customer.birth_date = None
    customer.attributes = {}
    customer.erased_at = customer.updated_at = now
    customer.save()
    # The admin's history names the customer in each entry and lists the fields changed.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).update(object_repr=f"erased customer {customer.pk}", change_message="")
    return customer
