import pytest
from django_celery_beat.models import PeriodicTask

from api.periodic import declared_periodic_jobs, periodic_tasks_sync

pytestmark = pytest.mark.django_db


def test_declared_jobs_are_synced_into_beat_once():
    assert periodic_tasks_sync() == [job.name for job in declared_periodic_jobs()]
    assert periodic_tasks_sync() == []
    task = PeriodicTask.objects.get(name="Purge idempotency records older than 24 hours")
    assert task.task == "api.tasks.purge_expired_idempotency_records"
    assert task.crontab.minute == "17"


def test_a_job_paused_by_staff_stays_paused_after_a_sync():
    periodic_tasks_sync()
    PeriodicTask.objects.update(enabled=False)
    periodic_tasks_sync()
    assert not PeriodicTask.objects.filter(enabled=True).exists()


def test_a_job_rescheduled_by_staff_keeps_their_schedule_after_a_sync():
    periodic_tasks_sync()
    task = PeriodicTask.objects.get(name="Purge idempotency records older than 24 hours")
    task.crontab.minute = "45"
    task.crontab.save()
    periodic_tasks_sync()
    assert PeriodicTask.objects.get(pk=task.pk).crontab.minute == "45"
