"""The HTML of an email survey: the question and one link per score.

Built here with `format_html` rather than in a template because an email needs inline styles
(mail clients drop stylesheets), while every page template must pass the workspace's strict-CSP
check (no style attributes). Every value is escaped; the texts come through gettext.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

BODY = "margin:0;padding:0;background:#f5f6f8;font-family:Arial,Helvetica,sans-serif;color:#1d2330;"
CARD = "max-width:560px;background:#ffffff;border-radius:8px;"
QUESTION = "padding:28px 24px 8px;font-size:20px;line-height:1.35;font-weight:bold;"
HINT = "padding:8px 24px 4px;font-size:14px;color:#4b5563;"
SCORE = (
    "display:block;padding:10px 0;border:1px solid #c9d2e3;border-radius:6px;background:#eef3ff;"
    "color:#1c44a3;font-size:16px;font-weight:bold;text-decoration:none;"
)
ENDS = "padding:0 24px 20px;font-size:12px;color:#6b7280;"
FOOT = "padding:0 24px 28px;font-size:13px;color:#6b7280;"


def survey_email_html(context: dict) -> SafeString:
    """`context` as sending._email_context builds it; call inside the customer's language."""
    scores = context["scores"]
    cells = format_html_join(
        "",
        '<td align="center" width="{}%"><a href="{}" style="{}">{}</a></td>',
        ((context["cell_width"], url, SCORE, score) for score, url in scores),
    )
    browser_link = format_html(
        '<a href="{}" style="color:#2454c5;">{}</a>',
        context["page_url"],
        _("Open the survey in your browser"),
    )
    return format_html(
        '<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="{body}"><table role="presentation" width="100%" cellpadding="0" '
        'cellspacing="0"><tr><td align="center" style="padding:24px 12px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="{card}">'
        '<tr><td style="{question_style}">{question}</td></tr>'
        '<tr><td style="{hint_style}">{hint}</td></tr>'
        '<tr><td style="padding:12px 16px 4px;"><table role="presentation" width="100%" '
        'cellpadding="0" cellspacing="4"><tr>{cells}</tr></table></td></tr>'
        '<tr><td style="{ends_style}"><table role="presentation" width="100%" cellpadding="0" '
        'cellspacing="0"><tr><td align="left">{low} — {low_word}</td>'
        '<td align="right">{high} — {high_word}</td></tr></table></td></tr>'
        '<tr><td style="{foot_style}">{foot}</td></tr>'
        "</table></td></tr></table></body></html>",
        language=context["language"],
        body=BODY,
        card=CARD,
        question_style=QUESTION,
        question=context["question"],
        hint_style=HINT,
        hint=_("Choose a score: one click is enough."),
        cells=cells,
        ends_style=ENDS,
        low=scores[0][0],
        low_word=context["low_word"],
        high=scores[-1][0],
        high_word=context["high_word"],
        foot_style=FOOT,
        foot=format_html("{} {}.", _("The buttons do not work?"), browser_link),
    )
