from campaigns.message_templates.models import MessageTemplateUse, Template, TemplateVersion  # noqa: F401
