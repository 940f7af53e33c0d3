from django.urls import path

from campaigns.message_templates.api import views

urlpatterns = [
    path("templates", views.TemplateListCreateView.as_view(), name="template-list"),
    path("templates/preview", views.TemplatePreviewView.as_view(), name="template-preview"),
    path("templates/<int:template_id>", views.TemplateDetailView.as_view(), name="template-detail"),
    path(
        "templates/<int:template_id>/versions",
        views.TemplateVersionListView.as_view(),
        name="template-versions",
    ),
    path(
        "templates/<int:template_id>/render",
        views.TemplateRenderView.as_view(),
        name="template-render",
    ),
]
