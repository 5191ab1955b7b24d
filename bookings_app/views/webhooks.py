"""``POST /webhooks/wix/``: where Wix delivers webhooks in Wix-app mode.

No login and no CSRF token: the request is authenticated by its body, a JWT signed by Wix that
``services.webhooks`` verifies with the app's public key. The answer is quick (store, then 200);
the worker applies the event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings_app import tasks
from bookings_app.services import webhooks


def _text(message: str, status: int = 200) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def wix_webhook(request: HttpRequest) -> HttpResponse:
    config = settings.WIX
    if not webhooks.webhooks_enabled(config=config):
        # 403, not 404: the route exists, but this site takes no webhooks (API-key sites cannot
        # subscribe to them, and no public key is configured to verify them with).
        return _text("Wix webhooks are not enabled on this site.", 403)
    try:
        receipt = webhooks.webhook_receive(body=request.body, config=config)
    except webhooks.WebhookRejected as exc:
        return _text(exc.message, exc.status)
    if receipt.event is not None:
        event_pk = receipt.event.pk
        transaction.on_commit(lambda: tasks.process_webhook_event_task.enqueue(event_pk))
        return _text("OK")
    return _text("Duplicate, already received." if receipt.duplicate else f"Ignored: {receipt.ignored}.")
