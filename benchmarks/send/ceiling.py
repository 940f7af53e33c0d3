"""The sink's own ceiling: how fast the same client stack Kaskad uses can send to it, with no
database, no queue and no Kaskad logic in between.

It runs with the shape of the Kaskad run: `processes` processes (like the Celery workers) of
`threads` threads each (like their pool), every thread sending one message at a time.

- HTTP: one `channels.providers.http.pooled_session()` per process, shared by its threads (as a
  worker shares its cached provider), each request through `channels.providers.http.request()`
  with the Exolve body.
- SMTP: the email backend Kaskad sends with (`EMAIL_BACKEND`: Kaskad's SMTP backend, or Django's
  stock one when the benchmark is told so), one open connection per thread, `send_messages()` in
  batches of the delivery chunk size, each message an `EmailMultiAlternatives` (text and HTML).

Time runs from the moment every process is ready until the last one has finished.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import dataclass

READY_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class HttpJob:
    url: str
    api_key: str
    sender: str
    text: str


@dataclass(frozen=True)
class SmtpJob:
    backend: str
    host: str
    port: int
    from_email: str
    subject: str
    text: str
    html: str
    batch: int


def _run_child(kind: str, job, addresses: list[str], threads: int, ready, go, results) -> None:
    import django

    django.setup()
    errors = [0] * threads
    slices = [addresses[n::threads] for n in range(threads)]
    if kind == "http":
        from channels.providers.http import pooled_session, request

        session = pooled_session(headers={"Authorization": f"Bearer {job.api_key}"})

        def work(n: int) -> None:
            for destination in slices[n]:
                try:
                    request(
                        session,
                        "POST",
                        job.url,
                        json={"number": job.sender, "destination": destination, "text": job.text},
                        timeout=10,
                    )
                except Exception:
                    errors[n] += 1

    else:
        from django.core.mail import EmailMultiAlternatives, get_connection

        def work(n: int) -> None:
            connection = get_connection(
                job.backend,
                host=job.host,
                port=job.port,
                use_tls=False,
                use_ssl=False,
                username="",
                password="",
                timeout=20,
            )
            connection.open()
            try:
                mine = slices[n]
                for start in range(0, len(mine), job.batch):
                    batch = []
                    for address in mine[start : start + job.batch]:
                        email = EmailMultiAlternatives(
                            job.subject, job.text, job.from_email, [address]
                        )
                        email.attach_alternative(job.html, "text/html")
                        batch.append(email)
                    try:
                        sent = connection.send_messages(batch)
                    except Exception:
                        sent = 0
                    errors[n] += len(batch) - (sent or 0)
            finally:
                connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    ready.release()
    go.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put({"pid": os.getpid(), "finished_at": time.time(), "errors": sum(errors)})


def measure(kind: str, job, addresses: list[str], *, processes: int, threads: int) -> dict:
    """Send one message to each address with `processes` × `threads` senders; messages/s."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    children = [
        context.Process(
            target=_run_child,
            args=(kind, job, addresses[n::processes], threads, ready, go, results),
            daemon=True,
        )
        for n in range(processes)
    ]
    for child in children:
        child.start()
    try:
        for _ in children:
            if not ready.acquire(timeout=READY_TIMEOUT_SECONDS):
                raise RuntimeError("a ceiling process did not start")
        started = time.time()
        go.set()
        finished = [results.get(timeout=3600) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    seconds = max(f["finished_at"] for f in finished) - started
    errors = sum(f["errors"] for f in finished)
    return {
        "messages": len(addresses),
        "errors": errors,
        "processes": processes,
        "threads_per_process": threads,
        "seconds": round(seconds, 2),
        "messages_per_second": round((len(addresses) - errors) / seconds, 1),
    }
