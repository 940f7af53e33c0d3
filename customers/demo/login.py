"""The demo staff login that `make run` prints."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

# --- The demo staff login -----------------------------------------------------------------------
DEMO_USERNAME = "admin"


@dataclass
class DemoLogin:
    username: str
    password: str
    path: Path
    created: bool = False
    reset: bool = False
    works: bool = True


def demo_login_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-login.txt"


def _read_password(path: Path) -> str | None:
    try:
        lines = path.read_text().splitlines()
    except (FileNotFoundError, PermissionError, UnicodeDecodeError):
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    return values.get("password") or None


def _write_password(path: Path, username: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start, so the password is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"username={username}\npassword={password}\n")
    os.chmod(path, 0o600)  # an older file may have had wider permissions


@transaction.atomic
def demo_login_ensure() -> DemoLogin:
    """Make sure the staff superuser `admin` exists and its password is in var/demo-login.txt.

    A new user, or an existing one whose file is gone, gets a fresh random password. A password
    staff changed in the admin is left alone; `works` is then False.
    """
    User = get_user_model()
    path = demo_login_path()
    user = User.objects.select_for_update().filter(username=DEMO_USERNAME).first()
    stored = _read_password(path)
    login = DemoLogin(username=DEMO_USERNAME, password=stored or "", path=path)
    if user is None:
        login.password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=DEMO_USERNAME, email="", password=login.password)
        login.created = True
    else:
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            user.save(update_fields=["is_staff", "is_superuser", "is_active"])
        if stored is None:
            login.password = secrets.token_urlsafe(12)
            user.set_password(login.password)
            user.save(update_fields=["password"])
            login.reset = True
        else:
            login.works = user.check_password(stored)
    if login.created or login.reset:
        _write_password(path, DEMO_USERNAME, login.password)
    return login
