"""`make run`'s helper: the first-run `.env`, and the Procfile's processes on one machine.

    python -m config.devrun env     # write .env (DEBUG=1, a random SECRET_KEY) unless one exists
    python -m config.devrun start   # start web, worker and beat; print the URL once it answers

`start` runs each Procfile line in its own session, so Ctrl-C reaches only this process, which then
stops each process the way it expects (SIGTERM: gunicorn and Celery shut down gracefully) and
exits quietly. A process that exits on its own stops the others.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
READY_PATH = "/app/login/"
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 10
SECRET_KEY_BYTES = 48  # 64 URL-safe characters


def env_file_path() -> Path | None:
    """Where settings read the environment file: KASKAD_ENV_FILE, else `.env` (None: no file)."""
    configured = os.environ.get("KASKAD_ENV_FILE")
    if configured is None:
        return BASE_DIR / ".env"
    return Path(configured) if configured else None


def env_file_ensure(path: Path) -> bool:
    """Write a development `.env` at `path` unless a file is there; True if it wrote one.

    The file is created 0600 with a fresh random SECRET_KEY, so every command (`manage.py
    create_api_key`, a worker started by hand) runs with the same settings as `make run`.
    """
    content = (
        "# Written by `make run` on the first run, for development on this machine only.\n"
        "# Any variable of README.md's Configuration table may go here; the environment wins.\n"
        "DEBUG=1\n"
        f"SECRET_KEY={secrets.token_urlsafe(SECRET_KEY_BYTES)}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(content)
    return True


def procfile(path: Path) -> list[tuple[str, str]]:
    """(name, command) for each `name: command` line."""
    entries = []
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            entries.append((name.strip(), command.strip()))
    return entries


def demo_login() -> tuple[str, str] | None:
    var_dir = Path(os.environ.get("KASKAD_VAR_DIR") or BASE_DIR / "var")
    try:
        lines = (var_dir / "demo-login.txt").read_text().splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if "username" in values and "password" in values:
        return values["username"], values["password"]
    return None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Runner:
    def __init__(self, entries: list[tuple[str, str]], port: str) -> None:
        self.entries = entries
        self.port = port
        self.width = max(len(name) for name, _ in entries)
        self.processes: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def say(self, text: str) -> None:
        with self.lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        for line in iter(process.stdout.readline, ""):
            if not self.stopping.is_set():  # shutdown chatter is not shown
                self.say(f"{name:<{self.width}} | {line.rstrip()}")

    def start(self) -> None:
        env = {**os.environ, "PORT": self.port, "PYTHONUNBUFFERED": "1"}
        for name, command in self.entries:
            process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # Ctrl-C reaches this runner only
            )
            self.processes[name] = process
            threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def exited(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def wait_ready(self) -> bool:
        url = f"http://127.0.0.1:{self.port}{READY_PATH}"
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.stopping.is_set():
            if self.exited():
                return False
            if answers(url):
                return True
            time.sleep(0.3)
        return False

    def banner(self) -> None:
        base = f"http://127.0.0.1:{self.port}"
        login = demo_login()
        who = f" — {login[0]} / {login[1]}" if login else ""
        self.say(
            f"\nKaskad is running at {base}/app/{who}\n"
            f"  admin: {base}/admin/   API docs: {base}/api/v1/docs/   stop: Ctrl-C\n"
        )

    def stop(self) -> None:
        self.stopping.set()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # What the process left behind in its session (a pool child).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def start(port: str) -> int:
    runner = Runner(procfile(BASE_DIR / "Procfile"), port)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # Also SIGINT: a shell without job control starts background commands with it ignored.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    runner.start()
    try:
        if runner.wait_ready():
            runner.banner()
        else:
            name = runner.exited()
            reason = f"{name} exited" if name else f"no answer on port {port}"
            runner.say(f"\nKaskad did not start ({reason}); see the output above.")
            runner.stop()
            return 1
        while not (name := runner.exited()):
            time.sleep(0.5)
        runner.say(f"\n{name} exited; stopping the others.")
        runner.stop()
        return 1
    except KeyboardInterrupt:
        runner.say("\nStopping Kaskad…")
        runner.stop()
        runner.say("Stopped.")
        return 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "env":
        path = env_file_path()
        if path is not None and env_file_ensure(path):
            print(f"Wrote {path} (DEBUG=1 and a new SECRET_KEY) for this machine.")
        return 0
    if command == "start":
        return start(os.environ.get("PORT") or "8000")
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
