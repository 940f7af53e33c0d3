"""Survey steps of a batch of runs, sent together through the sender analytics registered.

The runs at one survey step go to the sender in one call (set-based, like `messages_send_many`).
Each send's idempotency key is `journey:<journey>:<step>:<run>:<visit>:<customer>`, which names
one enrollment's visit of the step as a journey send's key does (a journey, customer and run
number are one enrollment): a retried batch gets back what the first one sent. A run whose
survey could not be sent takes the step's "unreachable" way.
"""

from __future__ import annotations

from collections import defaultdict

from campaigns.journeys.extensions import survey_sender
from campaigns.journeys.services.engine import Batch, Run
from channels.models import MessageStatus


def survey_key_prefix(run: Run, step_id: str) -> str:
    e = run.enrollment
    visits = run.context.get("visits", {}).get(step_id, 1)
    return f"journey:{e.journey_id}:{step_id}:{e.run}:{visits}"


def surveys_flush(batch: Batch, runs: list[Run]) -> None:
    """Send each run's pending survey; fills each request as `sends_flush` does for messages.
    (`sends_flush` passes at most one run per customer.)"""
    sender = survey_sender()
    groups: dict[tuple, list[Run]] = defaultdict(list)
    for run in runs:
        if sender is None:
            _refused(run, "no survey sender (analytics is not installed)")
            continue
        request = run.send
        key_prefix = survey_key_prefix(run, request.step_id)
        groups[(request.survey_id, request.channel, key_prefix, run.enrollment.journey_id)].append(
            run
        )
    for (survey_id, channel, key_prefix, journey_id), group in groups.items():
        results = sender(
            survey_id,
            [run.customer for run in group],
            channel=channel,
            key_prefix=key_prefix,
            source="journey",
            journey_id=journey_id,
            journey_step=group[0].send.step_id,
        )
        for run, result in zip(group, results, strict=True):
            if result.message_id is None:
                _refused(run, result.reason or "survey not sent", result.channel)
                continue
            request = run.send
            request.message_id = result.message_id
            request.status = result.status
            request.reason = result.reason
            request.sent_channel = result.channel


def _refused(run: Run, reason: str, channel: str = "") -> None:
    request = run.send
    request.message_id = 0
    request.status = MessageStatus.SUPPRESSED
    request.reason = reason
    request.sent_channel = channel or (request.channel if request.channel != "best" else "")
