from django.urls import path

from workspace.views import audit, auth, calls, customer_actions, customers, home, search
from workspace.views.settings import (
    api_keys,
    autoreplies,
    channels,
    delivery,
    settings_index,
    users,
    webhooks,
)

app_name = "workspace"

customer = "customers/<str:external_id>/"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("preferences/", auth.preferences, name="preferences"),
    path("audit/", audit.audit_list, name="audit"),
    path("settings/", settings_index, name="settings"),
    path("settings/channels/", channels.channels, name="settings_channels"),
    path("settings/delivery/", delivery.delivery, name="settings_delivery"),
    path("settings/auto-replies/", autoreplies.rule_list, name="settings_autoreplies"),
    path("settings/auto-replies/new/", autoreplies.rule_edit, name="settings_autoreply_new"),
    path("settings/auto-replies/<int:pk>/", autoreplies.rule_edit, name="settings_autoreply"),
    path(
        "settings/auto-replies/<int:pk>/delete/",
        autoreplies.rule_delete,
        name="settings_autoreply_delete",
    ),
    path("settings/webhooks/", webhooks.webhook_list, name="settings_webhooks"),
    path("settings/webhooks/new/", webhooks.subscription_edit, name="settings_webhook_new"),
    path("settings/webhooks/<int:pk>/", webhooks.subscription_edit, name="settings_webhook"),
    path(
        "settings/webhooks/<int:pk>/delete/",
        webhooks.subscription_delete,
        name="settings_webhook_delete",
    ),
    path(
        "settings/webhooks/deliveries/<int:pk>/retry/",
        webhooks.delivery_retry,
        name="settings_webhook_retry",
    ),
    path("settings/api-keys/", api_keys.key_list, name="settings_api_keys"),
    path("settings/api-keys/new/", api_keys.key_create, name="settings_api_key_new"),
    path("settings/api-keys/<int:pk>/revoke/", api_keys.key_revoke, name="settings_api_key_revoke"),
    path("settings/users/", users.user_list, name="settings_users"),
    path("settings/users/new/", users.user_create, name="settings_user_new"),
    path("settings/users/<int:pk>/", users.user_edit, name="settings_user"),
    path(
        "settings/users/<int:pk>/password-link/",
        users.user_password_link,
        name="settings_user_password_link",
    ),
    path("password/<uidb64>/<token>/", auth.password_set, name="password_set"),
    # Search, the customer list and the customer page (docs/workspace.md).
    path("search", search.search, name="search"),
    path("search/popover", search.search_popover, name="search_popover"),
    path("customers/", customers.customer_list, name="customers"),
    path(customer, customers.customer_page, name="customer"),
    path(f"{customer}since", customers.timeline_since, name="customer_timeline_since"),
    path(
        f"{customer}messages/<int:message_id>/",
        customers.message_status,
        name="customer_message",
    ),
    path(f"{customer}consent", customer_actions.consent_change, name="customer_consent"),
    path(f"{customer}notes", customer_actions.note_add, name="customer_note_add"),
    path(f"{customer}export", customer_actions.export, name="customer_export"),
    path(f"{customer}erase", customer_actions.erase, name="customer_erase"),
    path(f"{customer}send", customer_actions.send, name="customer_send"),
    path("calls/lookup", calls.call_lookup, name="call_lookup"),
]
