"""The two gateways the benchmark sends to, each in a process of its own.

- `ExolveSink`: a loopback HTTP/1.1 server speaking the MTS Exolve SMS contract
  (`POST /messaging/v1/SendSMS`, `Authorization: Bearer <key>`, a JSON body with `number`,
  `destination` and `text`; it answers `{"message_id": "<uuid>"}`), waiting `latency` seconds
  before each answer as a real gateway across the internet would. It is asyncio with keep-alive,
  so thousands of requests a second cost it little CPU and any number of connections can wait at
  once.
- `SmtpSink`: an aiosmtpd server that accepts every message.

Both count what they accepted, how many distinct recipients that was (a message sent twice shows
as a duplicate) and what they refused, and answer `stats()` / `reset()` over a pipe. They run in
separate processes so that they never take the GIL from the clients being measured; their CPU
time is reported next to the workers'.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import NoReturn

SEND_SMS_PATH = "/messaging/v1/SendSMS"
STARTUP_TIMEOUT_SECONDS = 30


@dataclass
class Stats:
    accepted: int = 0
    refused: int = 0  # wrong path, method, credentials or body: the client is broken
    recipients: set[str] = field(default_factory=set)
    connections: int = 0
    open_connections: int = 0
    peak_open_connections: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    first_at: float | None = None
    last_at: float | None = None
    refusals: list[str] = field(default_factory=list)  # the first few, to say what went wrong

    def accept(self, recipient: str) -> None:
        now = time.time()
        self.accepted += 1
        self.recipients.add(recipient)
        self.first_at = self.first_at or now
        self.last_at = now

    def refuse(self, why: str) -> None:
        self.refused += 1
        if len(self.refusals) < 10:
            self.refusals.append(why)

    def summary(self) -> dict:
        data = asdict(self)
        data["distinct_recipients"] = len(self.recipients)
        data["duplicates"] = self.accepted - len(self.recipients)
        del data["recipients"]
        return data


def request_head(head: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]]:
    """The method, path and headers (names lowercased) of an HTTP/1.1 request head."""
    request_line, *header_lines = head[:-4].split(b"\r\n")
    method, _, rest = request_line.partition(b" ")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return method, rest.partition(b" ")[0], headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the Exolve HTTP sink --------------------------------------------------------------------


class _ExolveServer:
    def __init__(self, api_key: str, sender: str, latency: float) -> None:
        self.authorization = f"Bearer {api_key}".encode()
        self.sender = sender.removeprefix("+")
        self.latency = latency
        self.stats = Stats()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = self.stats
        stats.connections += 1
        stats.open_connections += 1
        stats.peak_open_connections = max(stats.peak_open_connections, stats.open_connections)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return  # the client closed its keep-alive connection
                method, path, headers = request_head(head)
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                self.stats.in_flight += 1
                self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
                try:
                    await asyncio.sleep(self.latency)
                finally:
                    self.stats.in_flight -= 1
                status, answer = self.answer(method, path, headers, body)
                payload = json.dumps(answer).encode()
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (status, len(payload), payload)
                )
                await writer.drain()
                if headers.get(b"connection", b"").lower() == b"close":
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            stats.open_connections -= 1  # the object counted in, even if reset since
            writer.close()

    def answer(self, method: bytes, path: bytes, headers: dict, body: bytes) -> tuple[bytes, dict]:
        if method != b"POST" or path != SEND_SMS_PATH.encode():
            self.stats.refuse(f"{method!r} {path!r}")
            return b"404 Not Found", {"error": {"message": "not found"}}
        if headers.get(b"authorization") != self.authorization:
            self.stats.refuse(f"authorization {headers.get(b'authorization')!r}")
            return b"401 Unauthorized", {"error": {"message": "invalid API key"}}
        try:
            data = json.loads(body)
            number, destination, text = data["number"], data["destination"], data["text"]
        except (ValueError, KeyError, TypeError) as exc:
            self.stats.refuse(f"body {body[:200]!r}: {exc!r}")
            return b"400 Bad Request", {"error": {"message": "number, destination, text"}}
        # Exolve writes numbers as digits (7XXXXXXXXXX); a leading "+" is tolerated. A sender,
        # number or text it would reject is refused, so a client sending garbage cannot look fast.
        destination = str(destination).removeprefix("+")
        if str(number).removeprefix("+") != self.sender or not destination.isdigit() or not text:
            self.stats.refuse(f"number={number!r} destination={destination!r} text={text!r}")
            return b"400 Bad Request", {"error": {"message": "invalid number or destination"}}
        self.stats.accept(str(destination))
        return b"200 OK", {"message_id": str(uuid.uuid4())}


def _serve_exolve(control: Connection, port: int, api_key: str, sender: str, latency: float):
    server = _ExolveServer(api_key, sender, latency)
    loop = asyncio.new_event_loop()

    async def start() -> asyncio.AbstractServer:
        return await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=1024)

    loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    _control_loop(control, lambda: server.stats, lambda: setattr(server, "stats", Stats()))


# --- the SMTP sink ---------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self) -> None:
        self.stats = Stats()

    async def handle_DATA(self, server, session, envelope) -> str:
        if not envelope.rcpt_tos or b"\r\n\r\n" not in envelope.original_content:
            self.stats.refuse(f"rcpt {envelope.rcpt_tos!r}, {len(envelope.original_content)} B")
            return "554 Transaction failed"
        for recipient in envelope.rcpt_tos:
            self.stats.accept(recipient.lower())
        return "250 Message accepted for delivery"


def _serve_smtp(control: Connection, port: int) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    handler = _SmtpHandler()

    class CountingSMTP(SMTP):
        def connection_made(self, transport) -> None:
            self.counted_in = stats = handler.stats
            stats.connections += 1
            stats.open_connections += 1
            stats.peak_open_connections = max(stats.peak_open_connections, stats.open_connections)
            super().connection_made(transport)

        def connection_lost(self, error) -> None:
            self.counted_in.open_connections -= 1
            super().connection_lost(error)

    class CountingController(Controller):
        def factory(self) -> SMTP:
            return CountingSMTP(self.handler, **self.SMTP_kwargs)

    controller = CountingController(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    handler.stats = Stats()  # forget the probe connection start() makes

    def reset() -> None:
        handler.stats = Stats()

    _control_loop(control, lambda: handler.stats, reset)


# --- both: a process answering commands ------------------------------------------------------


def _control_loop(control: Connection, stats, reset) -> NoReturn:
    control.send("ready")
    while True:
        command = control.recv()
        if command == "stats":
            control.send(stats().summary())
        elif command == "reset":
            reset()
            control.send("ok")
        elif command == "stop":
            control.send("ok")
            # Open keep-alive connections would make a graceful shutdown wait; nothing is kept.
            os._exit(0)


class Sink:
    """A sink process: `with ExolveSink(...) as sink:` starts it; `sink.stats()` counts."""

    def __init__(self, target, *args) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)

    def __enter__(self) -> Sink:
        self.process.start()
        if not self._control.poll(STARTUP_TIMEOUT_SECONDS):
            self.process.kill()
            raise RuntimeError(f"{type(self).__name__} did not start")
        self._control.recv()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError, EOFError, RuntimeError):
            self._call("stop")
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def _call(self, command: str):
        self._control.send(command)
        if not self._control.poll(30):
            raise RuntimeError(f"{type(self).__name__} did not answer {command!r}")
        return self._control.recv()

    def stats(self) -> dict:
        return self._call("stats")

    def reset(self) -> None:
        self._call("reset")

    @property
    def pid(self) -> int:
        return self.process.pid


class ExolveSink(Sink):
    def __init__(self, *, api_key: str, sender: str, latency: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.latency = latency
        super().__init__(_serve_exolve, self.port, api_key, sender, latency)


class SmtpSink(Sink):
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        super().__init__(_serve_smtp, self.port)
