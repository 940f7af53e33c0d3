"""Settings come from the environment; each case runs manage.py in a fresh process."""

import os
import subprocess
import sys

from django.conf import settings

ENV_KEYS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "TRUST_X_FORWARDED_PROTO",
    "CACHE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set while browser tests run; never in a deployment
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRINT_SETTINGS = (
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.TIME_ZONE, s.DEFAULT_PHONE_REGION)"
)


def test_with_no_environment_kaskad_uses_sqlite_and_the_embedded_broker():
    result = manage("shell", "--no-imports", "-c", PRINT_SETTINGS, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://localhost/",
        "UTC",
        "RU",
    ]


def test_database_and_broker_come_from_the_environment():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT_SETTINGS,
        DEBUG="1",
        DATABASE_URL="postgres://kaskad@db.internal:5432/kaskad",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )
    assert result.stdout.split()[:2] == [
        "django.db.backends.postgresql",
        "redis://cache.internal:6379/0",
    ]


def test_without_debug_a_secret_key_is_required():
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="n9$kT2!vQ8@xL4#pW7^rZ1&mC6*bF3%hJ5(dG0)sY2_eU8+aK4=iO7",
        ALLOWED_HOSTS="kaskad.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


PRINT_PROXY_HEADER = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"


def test_x_forwarded_proto_is_not_trusted_unless_configured():
    result = manage("shell", "--no-imports", "-c", PRINT_PROXY_HEADER, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_behind_a_proxy_x_forwarded_proto_is_trusted_when_configured():
    result = manage(
        "shell", "--no-imports", "-c", PRINT_PROXY_HEADER, DEBUG="1", TRUST_X_FORWARDED_PROTO="1"
    )
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


PRINT_REDIS_TIMEOUTS = (
    "from django.conf import settings as s;"
    "o = s.CACHES['default']['OPTIONS']; t = s.CELERY_BROKER_TRANSPORT_OPTIONS;"
    "print(o['socket_connect_timeout'], o['socket_timeout'],"
    " t['socket_connect_timeout'], t['socket_timeout'])"
)


def test_a_redis_cache_and_broker_that_do_not_answer_are_given_up_on_within_a_second():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT_REDIS_TIMEOUTS,
        DEBUG="1",
        CACHE_URL="redis://cache.internal:6379/1",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "1", "1"]
