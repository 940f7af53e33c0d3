"""Public survey pages, mounted at /s/ in config/urls.py (outside /app/: no login)."""

from django.urls import path

from analytics.surveys import public_views

urlpatterns = [
    path("<str:token>/", public_views.survey_page, name="survey-page"),
    path("<str:token>/v", public_views.survey_score, name="survey-score"),
    path("<str:token>/comment", public_views.survey_comment, name="survey-comment"),
    path("<str:token>/thanks", public_views.survey_thanks, name="survey-thanks"),
]
