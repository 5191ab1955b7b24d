"""Request guards (``bookings_app/middleware.py``): NUL bytes refused once for every view; a desk
signed out after its idle timeout, which only a person's requests move on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session as DjangoSession
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.urls import reverse

from bookings_app.models import DeskAction
from tests import factories
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


# --- NUL bytes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/sessions/a%00b/", "/today/?q=a%00b", "/today/?a%00=1", "/plans/sell/?contact=1%00"],
)
def test_a_nul_in_the_path_or_the_query_is_a_400(desk_client, path):
    response = desk_client.get(path)

    assert response.status_code == 400
    assert "a NUL byte" in response.content.decode() and "Nothing was changed" in response.content.decode()


def test_a_nul_in_a_form_field_is_a_400_and_changes_nothing(desk_client):
    booking = factories.BookingFactory()
    url = reverse("desk_pay", args=[booking.session.ref, booking.pk])

    response = desk_client.post(url, {"idempotency_key": "key\x00-1234567", "method": "CASH"})
    htmx = desk_client.post(url, {"idempotency_key": "key-12345678", "method": "CA\x00SH"}, headers={"HX-Request": "1"})

    assert response.status_code == 400 and htmx.status_code == 400
    assert htmx.content.decode().startswith("This request holds a character no field can keep")
    assert not DeskAction.objects.exists()


def test_an_uploaded_file_is_the_views_to_judge(admin_client_role):
    url = reverse("course_import")
    named = admin_client_role.post(url, {"file": SimpleUploadedFile("t\x00.csv", b"a,b\n")})
    binary = admin_client_role.post(url, {"file": SimpleUploadedFile("t.xlsx", b"PK\x03\x04\x00\x00")})

    assert named.status_code == binary.status_code == 422  # the import page says what is wrong with it


def test_a_webhook_body_is_not_a_form(client):
    response = client.post(reverse("webhook_wix"), data="a\x00b", content_type="text/plain")

    assert response.status_code in (401, 403)  # the webhook view's own answer, not the guard's


@pytest.fixture
def admin_client_role(client, admin_user):
    client.force_login(admin_user)
    return client


# --- the idle timeout ------------------------------------------------------------------------------


def _signed_in(client) -> bool:
    response = client.get(reverse("today"))
    return response.status_code == 200


def test_a_session_ends_after_twelve_hours_without_anyone_using_it(client, desk_user, time_machine):
    time_machine.move_to("2026-11-21 07:00Z", tick=False)
    client.force_login(desk_user)

    time_machine.move_to("2026-11-21 18:00Z", tick=False)  # 11 h later: used, so it moves on
    assert _signed_in(client)
    time_machine.move_to("2026-11-22 05:00Z", tick=False)  # 22 h after signing in, 11 h idle
    assert _signed_in(client)

    time_machine.move_to("2026-11-22 17:01Z", tick=False)  # 12 h and a minute idle
    assert not _signed_in(client)


def test_a_pages_own_refreshes_do_not_keep_it_signed_in(client, desk_user, time_machine):
    time_machine.move_to("2026-11-21 07:00Z", tick=False)
    client.force_login(desk_user)
    for hour in range(1, 12):  # the roster polls all day, nobody touches the tablet
        time_machine.move_to(f"2026-11-21 {7 + hour:02d}:00Z", tick=False)
        poll = client.get(reverse("today"), headers={"HX-Request": "true", "X-Desk-Background": "1"})
        assert poll.status_code == 200

    time_machine.move_to("2026-11-21 19:01Z", tick=False)
    poll = client.get(reverse("today"), headers={"HX-Request": "true", "X-Desk-Background": "1"})
    assert poll.status_code == 401  # app.js shows "You were signed out"


def test_the_session_is_saved_again_only_every_few_minutes(client, desk_user, time_machine):
    time_machine.move_to("2026-11-21 07:00Z", tick=False)
    client.force_login(desk_user)

    def expiry():
        return DjangoSession.objects.get().expire_date

    signed_in = expiry()
    time_machine.move_to("2026-11-21 07:04Z", tick=False)
    assert _signed_in(client) and expiry() == signed_in  # four minutes on: not written
    time_machine.move_to("2026-11-21 07:06Z", tick=False)
    assert _signed_in(client) and expiry() == signed_in + timedelta(minutes=6)


def test_signing_in_with_the_form_starts_the_idle_timeout(client, staff_roles, settings, time_machine):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="sam", password=PASSWORD, roles=["Front desk"])
    time_machine.move_to("2026-11-21 07:00Z", tick=False)

    response = client.post(reverse("login"), {"username": "sam", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600
    assert DjangoSession.objects.get().expire_date.isoformat() == "2026-11-21T19:00:00+00:00"


@override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
def test_sign_out_on_browser_close_is_a_setting(client, staff_roles, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="sam", password=PASSWORD, roles=["Front desk"])

    response = client.post(reverse("login"), {"username": "sam", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    cookie = response.cookies["sessionid"]
    assert cookie.value and not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie


# --- behind a TLS proxy ----------------------------------------------------------------------------


def test_x_forwarded_proto_is_believed_only_when_configured(settings):
    request = RequestFactory().get("/", headers={"X-Forwarded-Proto": "https"})
    assert not request.is_secure()

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert request.is_secure()
