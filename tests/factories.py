from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import (
    AttributeDefinition,
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Note,
    Order,
    OrderItem,
    Product,
    RfmDimensionSetting,
    RfmScore,
    Segment,
    SegmentMembership,
)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"crm-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+7916{n:07d}")
    first_name = "Anna"
    last_name = "Smirnova"


class AttributeDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeDefinition
        django_get_or_create = ("key",)

    key = "city"
    label = factory.LazyAttribute(lambda o: o.key.title())
    type = AttributeDefinition.Type.STRING


class ChannelIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelIdentity

    customer = factory.SubFactory(CustomerFactory)
    channel = "telegram"
    address = factory.Sequence(lambda n: str(100000 + n))


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"
    status = "opted_in"


class ConsentChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentChange

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"
    previous_status = "unknown"
    status = "opted_in"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    event_id = factory.Sequence(lambda n: f"evt-{n}")
    customer = factory.SubFactory(CustomerFactory)
    name = "page_view"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = "RTX 4090"
    category = "video cards"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"order-{n}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    total = Decimal("1990.00")
    currency = "RUB"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    sku = "SKU-1"
    name = "RTX 4090"
    price = Decimal("1990.00")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    body = "Called about a late delivery; promised a callback."


class RfmScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RfmScore

    customer = factory.SubFactory(CustomerFactory)
    recency_days = 12
    frequency = 4
    monetary = Decimal("15990.00")
    r, f, m = 5, 4, 4
    segment = "champions"
    as_of = factory.LazyFunction(lambda: timezone.now().date())
    computed_at = factory.LazyFunction(timezone.now)


class RfmDimensionSettingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RfmDimensionSetting
        django_get_or_create = ("dimension",)

    dimension = "r"
    method = "thresholds"
    thresholds = [30, 90, 180, 365]


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    rules = {"all": []}


class SegmentMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMembership

    segment = factory.SubFactory(SegmentFactory)
    customer = factory.SubFactory(CustomerFactory)
