"""Open pixel, click redirects, one-click unsubscribe and the preference page."""

urlpatterns: list = []
