import pytest
from django.core.cache import cache
from django.urls import reverse

from bookings_app.views.auth import MAX_FAILURES
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clear_throttle(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(staff_roles):
    return UserFactory(username="sam", password=PASSWORD, roles=["Front desk"])


def _login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_page_shows_the_form(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_signing_in_lands_on_today(client, staff):
    response = _login(client, "sam", PASSWORD)

    assert response.status_code == 302
    assert client.get(response.url, follow=True).redirect_chain[-1][0] == reverse("today")


def test_signing_in_returns_to_the_page_asked_for(client, staff):
    response = client.post(
        reverse("login") + "?next=/today/%3Fdate%3D2026-11-22", {"username": "sam", "password": PASSWORD}
    )

    assert response.url == "/today/?date=2026-11-22"


def test_wrong_password_says_so_and_signs_nobody_in(client, staff):
    response = _login(client, "sam", "nope")

    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_that_username_from_that_address(client, staff):
    for _ in range(MAX_FAILURES - 1):
        assert _login(client, "sam", "nope").status_code == 200

    locked = _login(client, "sam", "nope")
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content

    # Even the right password is refused while locked…
    assert _login(client, "sam", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # …but only for that username and that address.
    assert _login(client, "sam", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_lock_ignores_the_case_of_the_username(client, staff):
    for _ in range(MAX_FAILURES):
        _login(client, "SAM", "nope")

    assert _login(client, "sam", PASSWORD).status_code == 429


def test_the_lock_is_per_username(client, staff):
    UserFactory(username="kim", password=PASSWORD)
    for _ in range(MAX_FAILURES):
        _login(client, "sam", "nope")

    assert _login(client, "kim", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, staff):
    for _ in range(MAX_FAILURES - 1):
        _login(client, "sam", "nope")
    assert _login(client, "sam", PASSWORD).status_code == 302
    client.logout()

    for _ in range(MAX_FAILURES - 1):
        assert _login(client, "sam", "nope").status_code == 200


def test_the_lock_lifts_after_the_window(client, staff, time_machine):
    time_machine.move_to("2026-11-21 09:00Z", tick=False)
    for _ in range(MAX_FAILURES):
        _login(client, "sam", "nope")
    assert _login(client, "sam", PASSWORD).status_code == 429

    time_machine.move_to("2026-11-21 09:16Z", tick=False)
    assert _login(client, "sam", PASSWORD).status_code == 302


def test_sign_out_is_a_post_and_goes_back_to_the_login_page(desk_client):
    assert desk_client.get(reverse("logout")).status_code == 405

    response = desk_client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == reverse("login")
    assert desk_client.get(reverse("today")).status_code == 302


def test_anonymous_visitors_are_sent_to_the_login_page_and_back(client, db):
    response = client.get(reverse("today") + "?date=2026-11-22")

    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/today/%3Fdate%3D2026-11-22"


def test_an_expired_session_on_an_htmx_request_redirects_the_whole_page(client, db):
    response = client.get(
        reverse("today"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/today/?date=2026-11-22"},
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("login") + "?next=/today/%3Fdate%3D2026-11-22"


def test_the_header_shows_who_is_signed_in_and_a_sign_out_button(desk_client):
    content = desk_client.get(reverse("today")).content.decode()

    assert "desk-user" in content
    assert f'action="{reverse("logout")}"' in content and 'method="post"' in content


def test_the_sandbox_login_page_names_the_demo_accounts_without_sending_anyone_to_a_command(client, db, settings):
    assert settings.WIX.is_sandbox

    content = client.get(reverse("login")).content.decode()

    assert "desk / desk-demo-2026, manager / manager-demo-2026, admin / admin-demo-2026" in content
    assert "manage.py" not in content and "setup_roles" not in content  # `make run` has made them already
