from celery import shared_task

from campaigns.recommendations.services import recommendations_refresh
from customers.models import Customer


@shared_task
def refresh_recommendations(customer_id: int | None = None) -> dict | None:
    """Everyone's picks (the nightly job), or one customer's when given."""
    customer = None
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:  # erased or deleted since it was queued
            return None
    result = recommendations_refresh(customer=customer)
    return {"customer_id": result.customer_id, "seconds": result.seconds, **result.counts}
