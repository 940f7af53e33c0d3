"""(a) Publishing a journey whose trigger is "entered the segment, current members included"
enrols every member, next to a plain `INSERT … SELECT` of the same rows.

Kaskad: `journey_publish` in this process, timed from the call to its return. It stores the
version, then `journey_enrol_many` starts a run per member under the entry policy (one
`INSERT … SELECT` with the policy's anti-join, then one `INSERT … SELECT` of an `entered` log row
per run, and the step counts), in one transaction.

Baseline: `bench_enrollment`, a table made `LIKE` the enrollments table `INCLUDING ALL` (its
columns, defaults, checks and every index, the partial unique one and the due index included),
gets the same rows with one `INSERT … SELECT` from the segment's membership and a commit: the
floor for writing that many rows with those indexes, without the policy or the log.
"""

from __future__ import annotations

from time import perf_counter

import psycopg

SCRATCH = "bench_enrollment"


def publish(journey, actor) -> dict:
    from campaigns.journeys.models import Enrollment, EnrollmentLog
    from campaigns.journeys.services.authoring import journey_publish

    started = perf_counter()
    version = journey_publish(journey=journey, actor=actor)
    seconds = perf_counter() - started
    enrolled = Enrollment.objects.filter(journey=journey).count()
    logged = EnrollmentLog.objects.filter(journey_id=journey.pk, outcome="entered").count()
    return {
        "seconds": round(seconds, 2),
        "enrolled": enrolled,
        "entered_log_rows": logged,
        "version_id": version.pk,
        "runs_per_second": round(enrolled / seconds) if seconds else 0,
    }


def baseline(url: str, segment_id: int, journey_id: int, version_id: int) -> dict:
    with psycopg.connect(url) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        connection.execute(f"CREATE TABLE {SCRATCH} (LIKE campaigns_enrollment INCLUDING ALL)")
        connection.commit()
        started = perf_counter()
        rows = connection.execute(
            f"""
            INSERT INTO {SCRATCH} (journey_id, version_id, customer_id, run, entry_key, step,
                state, wake_at, context, entered_at, step_entered_at, updated_at, exit_reason,
                last_step)
            SELECT %(journey)s, %(version)s, customer_id, 1, '', 'pause', 'active', now(),
                   '{{"visits": {{"pause": 1}}, "entry": {{"segment_id": {segment_id}}}}}'::jsonb,
                   now(), now(), now(), '', ''
            FROM customers_segmentmembership WHERE segment_id = %(segment)s
            """,
            {"journey": journey_id, "version": version_id, "segment": segment_id},
        ).rowcount
        connection.commit()
        seconds = perf_counter() - started
        connection.execute(f"DROP TABLE {SCRATCH}")
        connection.commit()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else 0,
    }
