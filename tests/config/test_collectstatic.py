"""Production's static files: `collectstatic` with the manifest storage succeeds (README's
production steps), so no vendored file may reference a file that is not shipped."""

import os
import subprocess
import sys

from django.conf import settings


def test_collectstatic_with_the_production_storage_succeeds(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "CACHE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env={**env, "KASKAD_VAR_DIR": str(tmp_path), "KASKAD_ENV_FILE": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "static" / "staticfiles.json").exists()
