import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from bookings_app.models import SignInAttempts
from bookings_app.services.sign_ins import MAX_ATTEMPTS as MAX_FAILURES
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only


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


def test_the_lock_holds_for_the_whole_window(client, staff, time_machine):
    time_machine.move_to("2026-11-21 09:00Z", tick=False)
    for _ in range(MAX_FAILURES):
        _login(client, "sam", "nope")

    time_machine.move_to("2026-11-21 09:14:59Z", tick=False)
    assert _login(client, "sam", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_every_web_process_shares_the_count(staff):
    """Four gunicorn workers, each with its own locmem cache, let 13 attempts through instead of 4.
    Each attempt here comes from another client with the cache emptied in between, as a request
    landing on another process would: the count is in the database, so the lock still holds."""
    statuses = []
    for _ in range(MAX_FAILURES):
        cache.clear()
        statuses.append(_login(Client(), "sam", "nope").status_code)
    assert statuses == [200] * (MAX_FAILURES - 1) + [429]

    cache.clear()
    fresh = Client()
    refused = _login(fresh, "sam", PASSWORD)

    assert refused.status_code == 429 and "_auth_user_id" not in fresh.session
    assert SignInAttempts.objects.count() == 1


def test_the_throttle_needs_no_cache_at_all(client, staff, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    for _ in range(MAX_FAILURES):
        _login(client, "sam", "nope")

    assert _login(client, "sam", PASSWORD).status_code == 429


def test_no_more_passwords_are_checked_once_locked(client, staff):
    """Counted before the password is checked: attempts after the lock are refused without
    reaching the backend, so the count stays at the limit."""
    for _ in range(MAX_FAILURES):
        _login(client, "sam", "nope")

    for _ in range(25):
        assert _login(client, "sam", PASSWORD).status_code == 429
    row = SignInAttempts.objects.get()
    assert row.attempts == MAX_FAILURES


def _admin_login(client, username: str, password: str, address: str = "10.0.0.9"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_admin_sign_in_is_throttled_too(client, db):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    for _ in range(30):
        _admin_login(client, "root", "wrong")

    response = _admin_login(client, "root", PASSWORD)

    assert response.status_code == 200  # the admin's form again, not the admin index
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert _admin_login(client, "root", PASSWORD, address="10.0.0.10").status_code == 302


def test_the_admin_and_the_desk_count_together(client, staff):
    staff.is_staff = True
    staff.save()
    for _ in range(MAX_FAILURES):
        _admin_login(client, "sam", "wrong", address="10.0.0.1")

    assert _login(client, "sam", PASSWORD).status_code == 429


def test_authenticate_itself_refuses_once_locked(staff, rf):
    from django.contrib.auth import authenticate

    request = rf.post("/any-way-in/", REMOTE_ADDR="10.0.0.1")
    for _ in range(MAX_FAILURES):
        assert authenticate(request, username="sam", password="nope") is None

    assert authenticate(request, username="sam", password=PASSWORD) is None
    assert authenticate(rf.post("/", REMOTE_ADDR="10.0.0.3"), username="sam", password=PASSWORD) == staff


def test_sign_out_is_a_post_and_goes_back_to_the_login_page(desk_client):
    assert desk_client.get(reverse("logout")).status_code == 405

    response = desk_client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == reverse("login")
    assert desk_client.get(reverse("today")).status_code == 302


def test_anonymous_visitors_are_sent_to_the_login_page_and_back(client, db):
    response = client.get(reverse("today") + "?date=2026-11-22")

    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/today/%3Fdate%3D2026-11-22"


def test_an_expired_session_on_an_htmx_request_is_401_saying_so_with_a_way_back(client, db):
    """Not a redirect of the whole page: that lost what the person was typing. The page keeps it
    and shows the message (app.js), with a sign-in link that comes back to the page."""
    response = client.get(
        reverse("today"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/today/?date=2026-11-22"},
    )

    assert response.status_code == 401
    assert response["X-Desk-Problem"] == "signed-out" and "HX-Redirect" not in response
    content = response.content.decode()
    assert "You were signed out" in content and "Nothing was changed" in content
    assert f'href="{reverse("login")}?next=/today/%3Fdate%3D2026-11-22"' in content


def test_the_header_shows_who_is_signed_in_and_a_sign_out_button(desk_client):
    content = desk_client.get(reverse("today")).content.decode()

    assert "desk-user" in content
    assert f'action="{reverse("logout")}"' in content and 'method="post"' in content


# --- signing in again after a shift change: back where they were ------------------------------------


def test_signing_in_comes_back_to_the_page_named_in_next(client, staff):
    page = client.get(reverse("login"), {"next": "/sessions/abc/"})
    assert b'name="next" value="/sessions/abc/"' in page.content

    response = client.post(
        reverse("login"), {"username": "sam", "password": PASSWORD, "next": "/sessions/abc/"}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 302 and response.url == "/sessions/abc/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/sessions/", "javascript:alert(1)"])
def test_next_is_only_followed_to_a_page_of_this_site(client, staff, next_url):
    page = client.get(reverse("login"), {"next": next_url})
    assert b"evil.example" not in page.content and b"javascript:" not in page.content

    response = client.post(
        reverse("login"), {"username": "sam", "password": PASSWORD, "next": next_url}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 302 and response.url == reverse("home")


def test_someone_already_signed_in_following_the_link_goes_straight_back(client, staff):
    client.force_login(staff)

    response = client.get(reverse("login"), {"next": "/sessions/abc/"})

    assert response.status_code == 302 and response.url == "/sessions/abc/"


def test_a_plain_post_after_the_session_ended_signs_in_back_to_the_page_it_came_from(client, db):
    response = client.post(
        reverse("desk_walk_in_new", args=["abc"]),
        {"first_name": "Nia"},
        headers={"Referer": "http://testserver/sessions/abc/?q=ann"},
    )

    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/sessions/abc/%3Fq%3Dann"  # not the POST-only URL


def test_a_plain_post_from_another_site_is_not_a_way_back(client, db):
    response = client.post(
        reverse("desk_walk_in_new", args=["abc"]), {}, headers={"Referer": "https://evil.example/x/"}
    )

    assert response.status_code == 302 and response.url == reverse("login") + "?next=/"


# --- a stale CSRF token (someone signed in or out on this device since the page was opened) -------


@pytest.fixture
def csrf_client(client):
    client.handler.enforce_csrf_checks = True
    return client


def test_a_stale_form_without_javascript_gets_a_page_saying_so_with_a_link_back(csrf_client, staff):
    csrf_client.force_login(staff)

    response = csrf_client.post(
        reverse("desk_walk_in_new", args=["abc"]),
        {"first_name": "Nia", "csrfmiddlewaretoken": "stale" * 8},
        headers={"Referer": "http://testserver/sessions/abc/"},
    )

    assert response.status_code == 403
    content = response.content.decode()
    assert "<html" in content and "This page was out of date" in content and "nothing was changed" in content
    assert 'href="/sessions/abc/"' in content and "Back to the page" in content


def test_a_stale_form_signed_out_offers_to_sign_in_back_to_the_page(csrf_client, db):
    response = csrf_client.post(
        reverse("desk_walk_in_new", args=["abc"]), {}, headers={"Referer": "http://testserver/sessions/abc/"}
    )

    assert response.status_code == 403
    assert f'href="{reverse("login")}?next=/sessions/abc/"' in response.content.decode()


def test_a_stale_form_from_another_site_links_back_to_today_only(csrf_client, staff):
    csrf_client.force_login(staff)

    response = csrf_client.post(
        reverse("desk_walk_in_new", args=["abc"]), {}, headers={"Referer": "https://evil.example/x/"}
    )

    assert response.status_code == 403
    content = response.content.decode()
    assert "evil.example" not in content and f'href="{reverse("home")}"' in content


def test_a_stale_htmx_post_is_403_saying_so_and_keeps_the_page(csrf_client, staff):
    csrf_client.force_login(staff)

    response = csrf_client.post(
        reverse("desk_walk_in_new", args=["abc"]),
        {"first_name": "Nia"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/sessions/abc/", "X-CSRFToken": "x" * 32},
    )

    assert response.status_code == 403 and response["X-Desk-Problem"] == "stale-page"
    content = response.content.decode()
    assert "<html" not in content and "This page is out of date" in content and "Nothing was changed" in content
    assert f'href="{reverse("login")}?next=/sessions/abc/"' in content


def test_the_sandbox_login_page_names_the_demo_accounts_without_sending_anyone_to_a_command(client, db, settings):
    assert settings.WIX.is_sandbox

    content = client.get(reverse("login")).content.decode()

    assert "desk / desk-demo-2026, manager / manager-demo-2026, admin / admin-demo-2026" in content
    assert "manage.py" not in content and "setup_roles" not in content  # `make run` has made them already
