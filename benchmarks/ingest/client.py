"""The API client: pre-serialised batches over a few keep-alive connections (stdlib only)."""

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

import orjson


class ApiFailure(RuntimeError):
    pass


class Client:
    def __init__(self, port: int, api_key: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def request(self, method: str, path: str, body: bytes | None = None) -> Any:
        connection = self._connection()
        # A sync gunicorn worker closes the connection after each response; http.client then
        # reconnects by itself on the next request.
        connection.request(method, path, body, self.headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise ApiFailure(f"{method} {path} answered {response.status}: {payload[:1000]!r}")
        return orjson.loads(payload)

    def post_all(self, path: str, bodies: list[bytes], concurrency: int) -> tuple[float, list]:
        """POST every body, `concurrency` at a time; returns (seconds, responses in order)."""
        started = perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            responses = list(pool.map(lambda body: self.request("POST", path, body), bodies))
        return perf_counter() - started, responses

    def get_all(self, path: str, count: int, concurrency: int) -> None:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda _: self.request("GET", path), range(count)))

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
