"""Ids and references in URLs and forms (``bookings_app/converters.py``): ASCII digits that fit a
64-bit key, printable ASCII references — anything else is a 404 or no id, never a 500."""

from __future__ import annotations

import pytest

from bookings_app.converters import MAX_ID, id_or_none
from tests import factories


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 25, None),
        ("²", None),
        ("١٢", None),
        ("１２", None),
        ("-1", None),
        ("1.0", None),
        ("", None),
        (None, None),
        ("1\x00", None),
    ],
)
def test_an_id_is_ascii_digits_that_fit_a_key(value, expected):
    assert id_or_none(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/sessions/%C2%B2/",  # ² : isdigit() is true, int() refuses it
        "/sessions/%D9%A1%D9%A2/",  # ١٢ : int() reads it as 12
        f"/sessions/{'x' * 201}/",
        "/packages/99999999999999999999/",
        f"/packages/{MAX_ID + 1}/",
        "/customers/%C2%B2/",
        "/courses/%D9%A1/",
    ],
)
def test_ids_and_references_that_are_none_are_404(admin_user, client, path):
    client.force_login(admin_user)

    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_a_session_is_found_by_its_wix_id_or_its_pk(desk_client):
    session = factories.SessionFactory()

    assert desk_client.get(f"/sessions/{session.wix_id}/").status_code == 200
    assert desk_client.get(f"/sessions/{session.pk}/").status_code == 200
    assert desk_client.get(f"/sessions/{MAX_ID}/").status_code == 404
