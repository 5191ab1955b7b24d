"""Sync and webhook routes; ``bookings_app/urls.py`` includes them."""

from django.urls import path

from bookings_app.views import sync, webhooks

urlpatterns = [
    path("sync/now/", sync.sync_now, name="sync-now"),
    path("sync/status/", sync.sync_status, name="sync-status"),
    path("webhooks/wix/", webhooks.wix_webhook, name="webhook-wix"),
]
