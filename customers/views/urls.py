"""The customers app's own workspace pages, under /app/ (see config/urls.py)."""

from django.urls import path  # noqa: F401  (the pages add their routes below)

app_name = "customers"

urlpatterns = [
    # Segments (/app/segments…) and RFM (/app/rfm…).
]
