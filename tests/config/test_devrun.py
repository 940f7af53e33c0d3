"""`make run`'s helper (config/devrun.py): the first-run .env, read by settings."""

import os
import socket
import stat
import subprocess
import sys

from django.conf import settings

from config import devrun

PRINT_SECRET = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY)"


def read_env(path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_first_run_writes_a_private_env_file_with_debug_and_a_long_random_secret(tmp_path):
    path = tmp_path / ".env"

    assert devrun.env_file_ensure(path) is True

    values = read_env(path)
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = tmp_path / "other.env"
    devrun.env_file_ensure(other)
    assert read_env(other)["SECRET_KEY"] != values["SECRET_KEY"]


def test_an_existing_env_file_is_kept_as_it_is(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DATABASE_URL=postgres://kaskad@db/kaskad\n")

    assert devrun.env_file_ensure(path) is False
    assert path.read_text() == "DATABASE_URL=postgres://kaskad@db/kaskad\n"


def test_kaskad_env_file_chooses_the_file_and_empty_means_none(monkeypatch, tmp_path):
    monkeypatch.setenv("KASKAD_ENV_FILE", str(tmp_path / "dev.env"))
    assert devrun.env_file_path() == tmp_path / "dev.env"
    monkeypatch.setenv("KASKAD_ENV_FILE", "")
    assert devrun.env_file_path() is None
    monkeypatch.delenv("KASKAD_ENV_FILE")
    assert devrun.env_file_path() == settings.BASE_DIR / ".env"


def test_manage_py_commands_run_with_the_written_env_file(tmp_path):
    """What the README's `create_api_key` line needs: no DEBUG nor SECRET_KEY in the shell."""
    path = tmp_path / ".env"
    devrun.env_file_ensure(path)
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_SECRET],
        cwd=settings.BASE_DIR,
        env={**clean, "KASKAD_ENV_FILE": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", read_env(path)["SECRET_KEY"]]
    assert "No hostname was supplied" not in result.stderr
    assert "AXES" not in result.stdout + result.stderr


def test_the_procfile_names_web_worker_and_beat():
    names = [name for name, _command in devrun.procfile(settings.BASE_DIR / "Procfile")]
    assert names == ["web", "worker", "beat"]


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def test_the_runner_waits_for_an_answer_and_stops_every_process(tmp_path, capsys):
    (tmp_path / "app" / "login").mkdir(parents=True)
    (tmp_path / "app" / "login" / "index.html").write_text("sign in")
    serve = f"{sys.executable} -m http.server $PORT --bind 127.0.0.1 --directory {tmp_path}"
    idle = f"{sys.executable} -c 'import time; time.sleep(60)'"
    runner = devrun.Runner([("web", serve), ("worker", idle)], free_port())

    runner.start()
    try:
        assert runner.wait_ready()
        runner.banner()
    finally:
        runner.stop()

    assert all(p.poll() is not None for p in runner.processes.values())
    assert f"Kaskad is running at http://127.0.0.1:{runner.port}/app/" in capsys.readouterr().out


def test_the_runner_reports_a_process_that_exits_before_the_server_answers():
    runner = devrun.Runner([("web", "exit 3")], free_port())

    runner.start()
    try:
        assert not runner.wait_ready()
        assert runner.exited() == "web"
    finally:
        runner.stop()
