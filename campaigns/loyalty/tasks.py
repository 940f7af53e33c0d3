from celery import shared_task

from campaigns.loyalty.services import points_expire_due, points_expiring_notify


@shared_task(name="campaigns.loyalty.tasks.points_nightly")
def points_nightly() -> dict:
    """Expire batches past their date, then warn about those expiring soon."""
    expired = points_expire_due()
    warned = points_expiring_notify()
    return {"expired_points": expired, "points_expiring_events": warned}
