"""Periodic jobs are declared in code and synced into django-celery-beat, where staff see and pause them.

Each app lists its jobs in `<app>/periodic_tasks.py` as `PERIODIC_TASKS = [PeriodicJob(...)]`.
Syncing is idempotent: it creates missing jobs with their declared schedule and keeps the task
of existing ones current, but leaves their schedule and `enabled` alone, so a job staff paused or
rescheduled in the admin stays as they set it.
"""

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month_of_year day_of_week", in UTC
    queue: str = "default"

    def __post_init__(self) -> None:
        if (self.every_seconds is None) == (self.crontab is None):
            raise ValueError(f"{self.name}: give exactly one of every_seconds and crontab")


def declared_periodic_jobs() -> list[PeriodicJob]:
    jobs = []
    for app_config in apps.get_app_configs():
        module_name = f"{app_config.name}.periodic_tasks"
        if find_spec(module_name) is not None:
            jobs.extend(import_module(module_name).PERIODIC_TASKS)
    return jobs


@transaction.atomic
def periodic_tasks_sync() -> list[str]:
    """Create or update a beat entry per declared job. Returns the names of jobs created."""
    created = []
    for job in declared_periodic_jobs():
        task = PeriodicTask.objects.filter(name=job.name).first()
        if task is not None:
            if (task.task, task.queue) != (job.task, job.queue):
                task.task, task.queue = job.task, job.queue
                task.save()  # save(), not update(): beat notices saved changes
            continue
        PeriodicTask.objects.create(name=job.name, task=job.task, queue=job.queue, **_schedule(job))
        created.append(job.name)
    return created


def _schedule(job: PeriodicJob) -> dict:
    """The beat schedule row for a job's declared interval or crontab, shared between jobs."""
    if job.every_seconds is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=job.every_seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval}
    minute, hour, day_of_month, month_of_year, day_of_week = job.crontab.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    return {"crontab": crontab}
