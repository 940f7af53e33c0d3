"""Survey steps of a batch of runs, sent together through the sender analytics registered.

The runs of one survey step go to the sender in one call (set-based, like `messages_send_many`),
each with the key of a journey send (enrollment, step, visit): a retried batch gets back what
the first one sent. A run whose survey could not be sent takes the step's "unreachable" way.
"""

from __future__ import annotations

from collections import defaultdict

from campaigns.journeys.extensions import SurveyItem, survey_sender
from campaigns.journeys.services.engine import Batch, Run
from channels.models import MessageStatus


def surveys_flush(batch: Batch, runs: list[Run]) -> None:
    """Send each run's pending survey; fills each request as `sends_flush` does for messages."""
    sender = survey_sender()
    groups: dict[tuple[int, int, str], list[Run]] = defaultdict(list)
    for run in runs:
        if sender is None:
            _refused(run, "no survey sender (analytics is not installed)")
            continue
        groups[(run.send.survey_id, run.enrollment.journey_id, run.send.step_id)].append(run)
    for (survey_id, journey_id, step_id), group in groups.items():
        items = [
            SurveyItem(customer=r.customer, channel=r.send.channel, key=r.send.key) for r in group
        ]
        results = sender(
            survey_id, items, source="journey", journey_id=journey_id, journey_step=step_id
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
