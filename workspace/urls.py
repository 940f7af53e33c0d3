from django.urls import path

from workspace.views import auth, calls, customer_actions, customers, home, search

app_name = "workspace"

customer = "customers/<str:external_id>/"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("preferences/", auth.preferences, name="preferences"),
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
