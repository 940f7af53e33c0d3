"""Real outages for tests: a broker or cache on a port where nothing listens, and a Redis server
of the test's own that it can stop and start again."""

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.celery_worker import reset_connections

# What config/settings.py sets for a Redis broker.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def free_port() -> int:
    """A port nothing listens on (the OS just handed it out and it was closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Kaskad's own Celery app publishes to `url` (a Redis broker, up or down) meanwhile.

    Publishing reads broker_write_url, which CELERY_BROKER_URL in the environment (CI) would win
    over if broker_url were set instead.
    """
    from config.celery import app

    keys = ("broker_write_url", "broker_transport_options")
    saved = {key: app.conf.get(key) for key in keys}
    try:
        app.conf.update(broker_write_url=url, broker_transport_options=REDIS_TIMEOUTS)
        reset_connections(app)
        yield
    finally:
        app.conf.update(saved)
        reset_connections(app)


@contextmanager
def dead_broker() -> Iterator[str]:
    """The broker is a Redis URL on a closed port: every connection is refused."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with broker_at(url):
        yield url


@contextmanager
def silent_broker() -> Iterator[str]:
    """The broker accepts connections and never answers, like a hung or half-dead Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    try:
        with broker_at(url):
            yield url
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        server.close()


class RedisServer:
    """A redis-server on its own port and folder, which a test stops and starts at will."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
