"""Every string a person reads in the workspace has a Russian translation.

The catalogues are extracted afresh from a copy of the source, so a string added without running
`make messages` fails here just as an untranslated one does.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP = {".venv", "var", "benchmarks", "tests", "static", ".git", "node_modules", "docs"}


def _untranslated(catalogue: Path) -> list[str]:
    with catalogue.open("rb") as f:
        messages = read_po(f)
    missing = []
    for message in messages:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_no_string_lacks_a_russian_translation(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in SKIP])
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--no-obsolete", "-v", "0"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "SECRET_KEY": "x" * 50},
    )
    problems = {}
    for catalogue in copy.rglob("locale/ru/LC_MESSAGES/django.po"):
        missing = _untranslated(catalogue)
        if missing:
            problems[str(catalogue.relative_to(copy))] = missing
    assert not problems, f"strings without a Russian translation (run `make messages`): {problems}"


def test_every_russian_catalogue_declares_russian_plurals():
    """Without the header gettext falls back to English plurals: "5 сообщения" instead of "5 сообщений"."""
    for catalogue in ROOT.glob("*/locale/ru/LC_MESSAGES/django.po"):
        if ".venv" in catalogue.parts:
            continue
        text = catalogue.read_text(encoding="utf-8")
        assert "Plural-Forms: nplurals=4;" in text or "Plural-Forms: nplurals=3;" in text, catalogue
    assert (ROOT / "locale/ru/LC_MESSAGES/django.po").read_text().count("Plural-Forms:") == 1
