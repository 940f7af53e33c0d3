"""identity_bind: one address on one channel, bound to a customer, with segments told about it."""

import pytest

from customers.models import ChannelIdentity, SegmentMembership
from customers.services import identities
from customers.services.identities import identity_bind
from customers.services.segments import segment_refresh
from tests.factories import ChannelIdentityFactory, CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

ADDRESS = "123456789"


@pytest.fixture
def refreshes(monkeypatch, django_capture_on_commit_callbacks):
    """Records (customer_ids, kinds) of every incremental segment refresh enqueued.

    A dynamic segment must exist, or nothing is enqueued at all. `refreshes.run(call)` runs the
    call and then its on-commit callbacks, as a commit would.
    """
    SegmentFactory(rules={"identity": "telegram"})

    class Recorder(list):
        def run(self, call):
            with django_capture_on_commit_callbacks(execute=True):
                return call()

    calls = Recorder()

    def publish(task, ids, kinds, names, **options):  # stands in for the broker
        assert task.name == "customers.tasks.refresh_segments_for_customers"
        calls.append((ids, kinds))
        return True

    monkeypatch.setattr("api.publishing.task_publish", publish)
    return calls


def bind(customer, address=ADDRESS, **kwargs):
    return identity_bind(customer=customer, channel="telegram", address=address, **kwargs)


def test_a_new_address_is_created_for_the_customer_and_their_segments_refreshed(refreshes):
    customer = CustomerFactory()

    binding = refreshes.run(lambda: bind(customer))

    assert (binding.created, binding.moved_from) == (True, None)
    assert ChannelIdentity.objects.get(channel="telegram", address=ADDRESS) == binding.identity
    assert binding.identity.customer_id == customer.pk
    assert refreshes == [([customer.pk], ["identities"])]


def test_binding_an_address_the_customer_already_has_changes_nothing_and_refreshes_nothing(
    refreshes,
):
    identity = ChannelIdentityFactory(channel="telegram", address=ADDRESS)

    binding = refreshes.run(lambda: bind(identity.customer))

    assert (binding.created, binding.moved_from) == (False, None)
    assert binding.identity == identity
    assert ChannelIdentity.objects.count() == 1
    assert refreshes == []


def test_an_address_of_another_customer_moves_and_both_customers_are_refreshed(refreshes):
    identity = ChannelIdentityFactory(channel="telegram", address=ADDRESS)
    earlier, customer = identity.customer, CustomerFactory()

    binding = refreshes.run(lambda: bind(customer))

    assert (binding.created, binding.moved_from) == (False, earlier.pk)
    assert ChannelIdentity.objects.get(pk=identity.pk).customer_id == customer.pk
    assert refreshes == [(sorted([earlier.pk, customer.pk]), ["identities"])]


def test_without_move_an_address_of_another_customer_stays_with_them_and_nothing_is_refreshed(
    refreshes,
):
    identity = ChannelIdentityFactory(channel="telegram", address=ADDRESS)

    binding = refreshes.run(lambda: bind(CustomerFactory(), move=False))

    assert (binding.created, binding.moved_from) == (False, None)
    assert binding.identity.customer_id == identity.customer_id
    assert ChannelIdentity.objects.get(pk=identity.pk).customer_id == identity.customer_id
    assert refreshes == []


def test_the_same_address_on_another_channel_is_another_identity(refreshes):
    identity = ChannelIdentityFactory(channel="sms", address="+79161234567")
    customer = CustomerFactory()

    binding = refreshes.run(
        lambda: identity_bind(customer=customer, channel="whatsapp", address="+79161234567")
    )

    assert binding.created
    assert ChannelIdentity.objects.get(pk=identity.pk).customer_id == identity.customer_id
    assert refreshes == [([customer.pk], ["identities"])]


def test_an_address_created_concurrently_is_moved_like_an_existing_one(refreshes, monkeypatch):
    """Another binder inserts the address after our locking read found nothing: our insert hits
    the unique constraint, and the row it created is re-read and moved to our customer."""
    other, customer = CustomerFactory(), CustomerFactory()
    real_locked = identities._locked
    reads = []

    def locked_after_a_concurrent_insert(channel, address):
        reads.append(address)
        if len(reads) == 1:  # the first read ran just before the other binder's insert
            assert real_locked(channel, address) is None
            ChannelIdentityFactory(customer=other, channel=channel, address=address)
            return None
        return real_locked(channel, address)

    monkeypatch.setattr(identities, "_locked", locked_after_a_concurrent_insert)

    binding = refreshes.run(lambda: bind(customer))

    assert len(reads) == 2
    assert (binding.created, binding.moved_from) == (False, other.pk)
    assert ChannelIdentity.objects.get(channel="telegram", address=ADDRESS).customer == customer
    assert refreshes == [(sorted([other.pk, customer.pk]), ["identities"])]


def test_the_refresh_moves_segment_membership_from_the_old_owner_to_the_new(
    eager_celery, django_capture_on_commit_callbacks
):
    on_telegram = SegmentFactory(rules={"identity": "telegram"})
    identity = ChannelIdentityFactory(channel="telegram", address=ADDRESS)
    earlier, customer = identity.customer, CustomerFactory()
    segment_refresh(segment=on_telegram)
    members = SegmentMembership.objects.filter(segment=on_telegram)
    assert set(members.values_list("customer_id", flat=True)) == {earlier.pk}

    with django_capture_on_commit_callbacks(execute=True):
        bind(customer)

    assert set(members.values_list("customer_id", flat=True)) == {customer.pk}
