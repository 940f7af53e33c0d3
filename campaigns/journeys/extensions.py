"""Surveys in journeys and broadcasts, without campaigns importing analytics.

Analytics owns surveys (NPS, CSAT, CES) and sits above campaigns, so it registers two functions
from its AppConfig.ready():

- a sender: `fn(survey_id, customers, *, channel, key_prefix, source, journey_id=None,
  journey_step="", broadcast_id=None)` sends survey `survey_id` to each customer (distinct) on
  `channel` ("best": the customer's preferred one, else the first that reaches them) and returns
  one `SurveySent` per customer, in order. Each send is keyed `<key_prefix>:<customer id>`; a key
  already used returns what it sent then, so a retried batch or chunk sends nothing twice;
- choices: `fn()` lists every survey as `SurveyChoice` (the builder's picker, the wizard's, and
  the checks that a referenced survey exists and is not archived).

Without analytics installed nothing is registered: a survey step then cannot be sent ("no survey
sender"), and the pickers are empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SurveySent:
    message_id: int | None  # None: nothing was stored (no survey, nothing to send it on)
    status: str  # the message's status; "suppressed" when the customer cannot be reached
    reason: str = ""
    channel: str = ""


@dataclass(frozen=True)
class SurveyChoice:
    id: int
    name: str
    kind: str  # nps, csat, ces
    archived: bool = False


SurveySender = Callable[..., list[SurveySent]]
SurveyChoices = Callable[[], list[SurveyChoice]]

_registry: dict[str, Callable | None] = {"sender": None, "choices": None}


def register_survey_sender(fn: SurveySender) -> SurveySender:
    _registry["sender"] = fn
    return fn


def register_survey_choices(fn: SurveyChoices) -> SurveyChoices:
    _registry["choices"] = fn
    return fn


def survey_sender() -> SurveySender | None:
    return _registry["sender"]


def survey_choices(*, include_archived: bool = False) -> list[SurveyChoice]:
    fn = _registry["choices"]
    if fn is None:
        return []
    return [c for c in fn() if include_archived or not c.archived]


def surveys_by_id() -> dict[int, SurveyChoice]:
    return {c.id: c for c in survey_choices(include_archived=True)}
