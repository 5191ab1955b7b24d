"""The sign-in throttle's count (``services/sign_ins.py``): per username and address, in the database."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from bookings_app.models import SignInAttempts
from bookings_app.services import sign_ins

pytestmark = pytest.mark.django_db


def _attempt(username: str = "sam", address: str = "10.0.0.1") -> bool:
    return sign_ins.sign_in_attempt_allowed(username=username, address=address)


def test_the_limit_allows_that_many_attempts_then_refuses() -> None:
    assert [_attempt() for _ in range(sign_ins.MAX_ATTEMPTS + 2)] == [True] * sign_ins.MAX_ATTEMPTS + [False, False]
    assert sign_ins.sign_in_locked(username="SAM ", address="10.0.0.1")
    assert not sign_ins.sign_in_locked(username="sam", address="10.0.0.2")


def test_a_success_forgets_the_attempts() -> None:
    for _ in range(sign_ins.MAX_ATTEMPTS - 1):
        _attempt()

    sign_ins.sign_in_succeeded(username="sam", address="10.0.0.1")

    assert SignInAttempts.objects.count() == 0
    assert _attempt()


def test_a_new_window_starts_after_the_last_one_ended_and_old_rows_are_swept(time_machine) -> None:
    time_machine.move_to("2026-11-21 09:00Z", tick=False)
    for _ in range(sign_ins.MAX_ATTEMPTS + 1):
        _attempt()
    _attempt(username="kim")

    time_machine.move_to("2026-11-21 09:15:01Z", tick=False)
    assert not sign_ins.sign_in_locked(username="sam", address="10.0.0.1")
    assert _attempt()
    assert SignInAttempts.objects.get(key=sign_ins.sign_in_key(username="sam", address="10.0.0.1")).attempts == 1
    _attempt(username="lee")  # a new row sweeps the windows that have ended

    assert SignInAttempts.objects.count() == 2


def test_the_table_holds_no_username_or_address_in_clear() -> None:
    _attempt(username="sam.smith", address="203.0.113.7")

    row = SignInAttempts.objects.get()
    assert "sam" not in row.key and "203.0" not in row.key and len(row.key) == 64


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL=postgres://…)")
@pytest.mark.django_db(transaction=True)
def test_simultaneous_attempts_are_counted_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Attempts racing from several threads (as from several web processes): exactly the limit is
    let through, never more — the count is taken under a row lock before any password is checked.
    (SQLite serialises writers anyway.)"""
    save = SignInAttempts.save

    def slow_save(self: SignInAttempts, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.05)  # widen the race: without the row lock, the threads read the same count
        save(self, *args, **kwargs)

    monkeypatch.setattr(SignInAttempts, "save", slow_save)
    _attempt()  # the row exists: the racers all update it
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        try:
            allowed = _attempt()
        finally:
            connection.close()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [False] * 4 + [True] * (sign_ins.MAX_ATTEMPTS - 1)
    assert SignInAttempts.objects.get().attempts == 9


# --- permissions in one query ----------------------------------------------------------------------


@pytest.mark.django_db
def test_permissions_are_read_in_one_query_and_match_djangos(django_assert_num_queries, staff_roles):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from bookings_app import roles
    from bookings_app.auth_backend import ThrottledModelBackend
    from tests.factories import UserFactory

    manager = UserFactory(username="m1", roles=[roles.MANAGER])
    manager.user_permissions.add(Permission.objects.get(codename="import_data"))  # one of their own too
    boss = UserFactory(username="boss", is_superuser=True)
    gone = UserFactory(username="gone", roles=[roles.MANAGER], is_active=False)
    for user in (manager, boss, gone):
        fresh = type(user).objects.get(pk=user.pk)
        with django_assert_num_queries(1 if user.is_active else 0):
            ours = ThrottledModelBackend().get_all_permissions(fresh)
        assert ours == ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
    assert "bookings_app.import_data" in ThrottledModelBackend().get_all_permissions(manager)
