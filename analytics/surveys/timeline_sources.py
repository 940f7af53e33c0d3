"""What analytics adds to the customer timeline: survey answers (registered from ready())."""

from analytics.models.surveys import SurveyAnswer
from analytics.surveys.answers import score_category
from customers.timeline import TimelineEntry, TimelineSource, register_timeline_source


def _answer_entry(answer: SurveyAnswer) -> TimelineEntry:
    survey = answer.survey
    low, high = survey.scale
    category = score_category(survey.kind, answer.score)
    return TimelineEntry(
        occurred_at=answer.answered_at,
        kind="survey_answer",
        id=answer.pk,
        title=f"{survey.get_kind_display()} {answer.score}/{high} ({category}): {survey.name}",
        data={
            "survey_id": survey.pk,
            "survey": survey.name,
            "kind": survey.kind,
            "score": answer.score,
            "scale": [low, high],
            "category": category,
            "comment": answer.comment,
            "channel": answer.channel,
            "send_id": answer.send_id,
            "updated_at": answer.updated_at.isoformat(),
        },
    )


def register() -> None:
    register_timeline_source(
        TimelineSource(
            kind="survey_answer",
            rows_for_customer=lambda customer_id: SurveyAnswer.objects.select_related(
                "survey"
            ).filter(customer_id=customer_id),
            time_field="answered_at",
            to_entry=_answer_entry,
            channel_field="channel",
        )
    )
