"""Creating and changing survey definitions.

`survey_create(kind, name)` fills the question, the "why?" follow-up and the thanks from the
kind's preset in every language; anything passed replaces the preset. Bad input raises Django's
`ValidationError` with a dict naming each field, so a form shows it on the field and the API
(another helper's) turns it into `{"errors": [{"field", "message"}]}`; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models.surveys import Survey, SurveyKind
from analytics.surveys.presets import LANGUAGES, PRESETS

NAME_MAX_LENGTH = Survey._meta.get_field("name").max_length
TEXT_MAX_LENGTH = 500  # a chat message carries the question and the reply hint
TEXT_FIELDS = ("question", "follow_up", "thanks")
_UNSET: Any = object()


def survey_create(
    kind: str,
    name: str,
    *,
    question: dict | None = None,
    follow_up: dict | None = None,
    thanks: dict | None = None,
    open_conversation_on_detractor: bool = False,
    whatsapp_template: dict | None = None,
) -> Survey:
    """A new survey of `kind` (nps, csat, ces) with the preset texts, changed where given."""
    errors: dict[str, list[str]] = {}
    if kind not in SurveyKind.values:
        errors["kind"] = [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(SurveyKind.values)}]
    preset = PRESETS.get(kind, {})
    given = {"question": question, "follow_up": follow_up, "thanks": thanks}
    texts = {
        field: {
            **preset.get(field, {}),
            **(given[field] if isinstance(given[field], dict) else {}),
        }
        for field in TEXT_FIELDS
    }
    survey = Survey(
        kind=kind,
        name=(name or "").strip() if isinstance(name, str) else name,
        open_conversation_on_detractor=bool(open_conversation_on_detractor),
        whatsapp_template=whatsapp_template or {},
        **texts,
    )
    _validate(survey, errors, given)
    survey.save()
    return survey


@transaction.atomic
def survey_update(
    survey: Survey,
    *,
    name: str = _UNSET,
    question: dict = _UNSET,
    follow_up: dict = _UNSET,
    thanks: dict = _UNSET,
    open_conversation_on_detractor: bool = _UNSET,
    whatsapp_template: dict = _UNSET,
    archived: bool = _UNSET,
) -> Survey:
    """Change what is given. Texts merge per language ({"ro": "…"} changes Romanian only); the
    kind never changes, since answers already stored are on its scale."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    given = {"question": question, "follow_up": follow_up, "thanks": thanks}
    errors: dict[str, list[str]] = {}
    for field, value in given.items():
        if value is not _UNSET:
            if isinstance(value, dict):
                setattr(survey, field, {**getattr(survey, field), **value})
            else:
                errors[field] = [_('Give the texts by language, e.g. {"ru": "…"}.')]
    if name is not _UNSET:
        survey.name = name.strip() if isinstance(name, str) else name
    if open_conversation_on_detractor is not _UNSET:
        survey.open_conversation_on_detractor = bool(open_conversation_on_detractor)
    if whatsapp_template is not _UNSET:
        survey.whatsapp_template = whatsapp_template or {}
    if archived is not _UNSET:
        survey.archived_at = (survey.archived_at or timezone.now()) if archived else None
    _validate(survey, errors, {k: v for k, v in given.items() if v is not _UNSET})
    survey.updated_at = timezone.now()
    survey.save()
    return survey


def _validate(survey: Survey, errors: dict[str, list[str]], given: dict) -> None:
    if not isinstance(survey.name, str) or not survey.name:
        errors["name"] = [_("Give the survey a name.")]
    elif len(survey.name) > NAME_MAX_LENGTH:
        errors["name"] = [
            _("The name is too long: at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}
        ]
    for field in TEXT_FIELDS:
        if field in errors:
            continue
        value = given.get(field)
        if value is not None and not isinstance(value, dict):
            errors[field] = [_('Give the texts by language, e.g. {"ru": "…"}.')]
            continue
        problem = _texts_problem(getattr(survey, field))
        if problem:
            errors[field] = [problem]
    template = survey.whatsapp_template
    if template and not (
        isinstance(template, dict)
        and isinstance(template.get("name"), str)
        and template.get("name")
        and isinstance(template.get("language"), str)
        and template.get("language")
        and set(template) <= {"name", "language"}
    ):
        errors["whatsapp_template"] = [
            _("An approved template needs a name and a language, e.g. %(example)s.")
            % {"example": '{"name": "survey_invite", "language": "ru"}'}
        ]
    if errors:
        raise ValidationError(errors)


def _texts_problem(texts: dict) -> str:
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown:
        return _("Unknown language %(code)s: use ru, en or ro.") % {"code": unknown[0]}
    for language in LANGUAGES:
        value = texts.get(language)
        if not isinstance(value, str) or not value.strip():
            return _("The text in %(code)s is empty.") % {"code": language}
        if len(value) > TEXT_MAX_LENGTH:
            return _("The text in %(code)s is too long: at most %(n)d characters.") % {
                "code": language,
                "n": TEXT_MAX_LENGTH,
            }
    return ""
