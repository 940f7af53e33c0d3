"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

urlpatterns = []
