"""A loopback SMS gateway speaking the MTS Exolve contract that can be told to misbehave.

It runs in a process of its own (asyncio, HTTP/1.1 keep-alive on 127.0.0.1) and records every
request it receives, keyed by our message: each message of a fault-suite campaign goes to its own
phone number, so the destination names the message. What it records is what decides duplicates and
losses, from the gateway's side:

- `deliveries[destination]`: how many times the gateway took the message to deliver it. A 200
  answer, a request answered too late (the client gave up), and a request whose connection was
  closed after it was read all count: a real gateway would text the customer in each case.
- `answers`: how many requests got each kind of answer (200, 500, 429, late, closed). 500 and 429
  refuse the message, so they do not count as deliveries.

Modes (set with `gateway.mode(...)` while it runs):

- `ok`: answers `{"message_id": "<uuid>"}` after `latency` seconds;
- `500`: answers 500 with Exolve's error body;
- `429`: answers 429 with `Retry-After: <retry_after>` at once (a rate limiter does not wait);
- `late`: takes the message, then answers only after `late_seconds` (longer than the client's read
  timeout, so the client sees a timeout although the text went out);
- `close`: takes the message, then closes the connection without an answer.

Delivery reports: once told where (`gateway.report_to(url)`, Kaskad's `/hooks/exolve/status` with
its secret), the gateway reports every text it took as DELIVERED, `REPORT_DELAY_SECONDS` later, as
Exolve does: `{"message_id": <the gateway's id>, "status": "DELIVERED", "date": …}`. That includes
the texts whose answer the client never got; their id means nothing to Kaskad, exactly as with the
real gateway. A report Kaskad does not answer with 200 is tried again, up to `REPORT_ATTEMPTS`
times; one that reaches Kaskad before it recorded the gateway's id is answered "not applied" and
not repeated: Kaskad answered 200, so for the gateway the report is done.

A malformed request (wrong path, key, sender or body) is refused with 4xx and counted: the suite
fails if any is seen, so a broken client cannot look healthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import NoReturn
from urllib.parse import urlsplit

from benchmarks.send.sinks import free_port, request_head

SEND_SMS_PATH = "/messaging/v1/SendSMS"
MODES = ("ok", "500", "429", "late", "close")
STARTUP_TIMEOUT_SECONDS = 30
CONTROL_TIMEOUT_SECONDS = 30
# Most requests are a few hundred bytes; anything far larger is not a client of ours.
MAX_BODY_BYTES = 64 * 1024
IDLE_SECONDS = 120  # a keep-alive connection with no request for this long is closed
REPORT_DELAY_SECONDS = 2.0
REPORT_ATTEMPTS = 3
REPORT_TIMEOUT_SECONDS = 10
REPORTERS = 4  # reports posted at once


@dataclass
class Record:
    deliveries: Counter = field(default_factory=Counter)  # destination → times taken
    answers: Counter = field(default_factory=Counter)  # answer kind → requests
    reports: Counter = field(default_factory=Counter)  # applied / not applied / failed
    refused: int = 0
    refusals: list[str] = field(default_factory=list)  # the first few, to say what went wrong

    def refuse(self, why: str) -> None:
        self.refused += 1
        if len(self.refusals) < 10:
            self.refusals.append(why)

    def summary(self) -> dict:
        return {
            "deliveries": dict(self.deliveries),
            "answers": dict(self.answers),
            "reports": dict(self.reports),
            "refused": self.refused,
            "refusals": list(self.refusals),
        }


@dataclass
class Mode:
    name: str = "ok"
    retry_after: int = 5
    late_seconds: float = 3.0


class _Gateway:
    def __init__(self, api_key: str, sender: str, latency: float) -> None:
        self.authorization = f"Bearer {api_key}".encode()
        self.sender = sender.removeprefix("+")
        self.latency = latency
        self.mode = Mode()
        self.record = Record()
        self.report_url = ""
        self.reports: asyncio.Queue = asyncio.Queue()
        self.reports_pending = 0  # scheduled, queued or being posted

    def take(self, destination: str) -> str:
        """Record a text as taken; returns the gateway's id for it and schedules its report."""
        self.record.deliveries[destination] += 1
        message_id = str(uuid.uuid4())
        if self.report_url:
            self.reports_pending += 1
            loop = asyncio.get_running_loop()
            loop.call_later(REPORT_DELAY_SECONDS, self.reports.put_nowait, (message_id, 1))
        return message_id

    async def report_loop(self) -> NoReturn:
        while True:
            message_id, attempt = await self.reports.get()
            try:
                applied = await self.report(message_id)
            except (OSError, ValueError, IndexError, TimeoutError, asyncio.IncompleteReadError):
                if attempt < REPORT_ATTEMPTS:  # again a little later, as a gateway would
                    retry = (message_id, attempt + 1)
                    asyncio.get_running_loop().call_later(attempt, self.reports.put_nowait, retry)
                    continue
                self.record.reports["failed"] += 1
            else:
                self.record.reports["applied" if applied else "not applied"] += 1
            self.reports_pending -= 1

    async def report(self, message_id: str) -> bool:
        """POST one delivery report to Kaskad; whether Kaskad applied it to a message."""
        url = urlsplit(self.report_url)
        body = json.dumps(
            {"message_id": message_id, "status": "DELIVERED", "date": datetime.now(UTC).isoformat()}
        ).encode()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(url.hostname, url.port), REPORT_TIMEOUT_SECONDS
        )
        try:
            writer.write(
                b"POST %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (url.path.encode(), url.query.encode(), url.netloc.encode(), len(body), body)
            )
            await writer.drain()
            response = await asyncio.wait_for(reader.read(), REPORT_TIMEOUT_SECONDS)
        finally:
            writer.close()
        head, _, payload = response.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise ValueError(f"Kaskad answered {status}: {payload[:200]!r}")
        return bool(json.loads(payload).get("applied"))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
                except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                    return  # the client closed its keep-alive connection, or left it idle
                method, path, headers = request_head(head)
                length = int(headers.get(b"content-length", b"0"))
                if length > MAX_BODY_BYTES:
                    self.record.refuse(f"body of {length} bytes")
                    return
                body = await reader.readexactly(length)
                if not await self.answer(writer, method, path, headers, body):
                    return  # the mode closed the connection
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            writer.close()

    async def answer(self, writer, method: bytes, path: bytes, headers: dict, body: bytes) -> bool:
        """Answer one request as the current mode says; False when the connection must close."""
        destination, refusal = self.check(method, path, headers, body)
        if refusal:
            self.record.refuse(refusal)
            await self.write(writer, b"400 Bad Request", {"error": {"message": refusal}})
            return True
        mode = self.mode  # the mode when the request arrived decides its fate
        if mode.name == "429":  # a rate limiter refuses at the door, without the usual latency
            self.record.answers["429"] += 1
            extra = b"Retry-After: %d\r\n" % mode.retry_after
            await self.write(
                writer, b"429 Too Many Requests", {"error": {"message": "slow"}}, extra
            )
            return True
        await asyncio.sleep(self.latency)
        if mode.name == "500":
            self.record.answers["500"] += 1
            await self.write(writer, b"500 Internal Server Error", {"error": {"message": "down"}})
            return True
        message_id = self.take(destination)  # from here on the text goes out
        if mode.name == "close":
            self.record.answers["closed"] += 1
            return False
        if mode.name == "late":
            self.record.answers["late"] += 1
            await asyncio.sleep(mode.late_seconds)
            # The client has given up by now; the answer goes nowhere (or fails to).
            with contextlib.suppress(ConnectionError):
                await self.write(writer, b"200 OK", {"message_id": message_id})
            return False
        self.record.answers["200"] += 1
        await self.write(writer, b"200 OK", {"message_id": message_id})
        return headers.get(b"connection", b"").lower() != b"close"

    def check(self, method, path, headers, body) -> tuple[str, str]:
        """(destination, "") for a well-formed send, or ("", why it is refused)."""
        if method != b"POST" or path != SEND_SMS_PATH.encode():
            return "", f"{method!r} {path!r}"
        if headers.get(b"authorization") != self.authorization:
            return "", f"authorization {headers.get(b'authorization')!r}"
        try:
            data = json.loads(body)
            number, destination, text = data["number"], data["destination"], data["text"]
        except (ValueError, KeyError, TypeError) as exc:
            return "", f"body {body[:200]!r}: {exc!r}"
        destination = str(destination).removeprefix("+")
        if str(number).removeprefix("+") != self.sender or not destination.isdigit() or not text:
            return "", f"number={number!r} destination={destination!r} text={text!r}"
        return destination, ""

    @staticmethod
    async def write(writer, status: bytes, answer: dict, extra_headers: bytes = b"") -> None:
        payload = json.dumps(answer).encode()
        writer.write(
            b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
            % (status, extra_headers, len(payload), payload)
        )
        await writer.drain()


def _serve(control: Connection, port: int, api_key: str, sender: str, latency: float) -> NoReturn:
    gateway = _Gateway(api_key, sender, latency)
    loop = asyncio.new_event_loop()

    async def start() -> asyncio.AbstractServer:
        for _ in range(REPORTERS):
            asyncio.get_running_loop().create_task(gateway.report_loop())
        return await asyncio.start_server(gateway.handle, "127.0.0.1", port, backlog=1024)

    loop.run_until_complete(start())
    threading.Thread(target=loop.run_forever, daemon=True).start()
    control.send("ready")
    while True:
        try:
            command, argument = control.recv()
        except EOFError:  # the suite is gone without saying stop
            os._exit(0)
        # Changes are handed to the event loop's thread, so a request never sees half of one.
        if command == "mode":
            loop.call_soon_threadsafe(setattr, gateway, "mode", Mode(**argument))
            control.send("ok")
        elif command == "record":
            future = asyncio.run_coroutine_threadsafe(_summary(gateway), loop)
            control.send(future.result(timeout=CONTROL_TIMEOUT_SECONDS))
        elif command == "report_to":
            loop.call_soon_threadsafe(setattr, gateway, "report_url", argument)
            control.send("ok")
        elif command == "progress":
            future = asyncio.run_coroutine_threadsafe(_progress(gateway), loop)
            control.send(future.result(timeout=CONTROL_TIMEOUT_SECONDS))
        elif command == "reset":
            loop.call_soon_threadsafe(setattr, gateway, "record", Record())
            control.send("ok")
        elif command == "stop":
            control.send("ok")
            os._exit(0)  # open keep-alive connections would hold a graceful shutdown


async def _summary(gateway: _Gateway) -> dict:
    return gateway.record.summary()


async def _progress(gateway: _Gateway) -> tuple[int, int]:
    return gateway.record.deliveries.total(), gateway.reports_pending


class Gateway:
    """`with Gateway(...) as gateway:` starts the process; `gateway.mode("500")` changes how it
    answers from the next request on; `gateway.record()` says what it received."""

    def __init__(self, *, api_key: str, sender: str, latency: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, self.port, api_key, sender, latency), daemon=True
        )

    def __enter__(self) -> Gateway:
        self.process.start()
        if not self._control.poll(STARTUP_TIMEOUT_SECONDS):
            self.process.kill()
            raise RuntimeError("the loopback gateway did not start")
        self._control.recv()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError, EOFError, RuntimeError):
            self._call("stop", None)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)

    def _call(self, command: str, argument):
        self._control.send((command, argument))
        if not self._control.poll(CONTROL_TIMEOUT_SECONDS):
            raise RuntimeError(f"the loopback gateway did not answer {command!r}")
        return self._control.recv()

    def mode(self, name: str, *, retry_after: int = 5, late_seconds: float = 3.0) -> None:
        if name not in MODES:
            raise ValueError(f"unknown gateway mode {name!r}; one of {MODES}")
        self._call("mode", {"name": name, "retry_after": retry_after, "late_seconds": late_seconds})

    def record(self) -> dict:
        return self._call("record", None)

    def progress(self) -> tuple[int, int]:
        """(texts taken so far, delivery reports not yet posted): cheaper than the record."""
        return self._call("progress", None)

    def report_to(self, url: str) -> None:
        """Send a delivery report of every text taken from now on to `url`."""
        self._call("report_to", url)

    def reset(self) -> None:
        self._call("reset", None)
