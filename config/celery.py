"""Celery application. Broker and result backend come from settings (see config/settings.py)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kaskad")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes every database connection after every task unless told to reuse
# them; a send task every few milliseconds would then open a PostgreSQL connection each time.
# Connections are still checked before use (CONN_HEALTH_CHECKS) and recycled after this many tasks.
app.conf.update(CELERY_DB_REUSE_MAX=100)
app.autodiscover_tasks()


def _make_embedded_broker_folders() -> None:
    """The filesystem transport expects its folders to exist; create them for the default set-up."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
    backend = app.conf.result_backend or ""
    if backend.startswith("file://"):
        os.makedirs(backend.removeprefix("file://"), exist_ok=True)


app.on_after_configure.connect(lambda sender, **kwargs: _make_embedded_broker_folders(), weak=False)
