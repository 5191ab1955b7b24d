"""The mirror's newer-wins upsert (``models/mirror.py``)."""

from datetime import UTC, datetime, timedelta

import pytest

from bookings_app import models
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _upsert(wix_id: str = "svc-1", *, revision=None, updated_at=None, name: str = "Swim"):
    return models.Service.objects.upsert_from_wix(
        wix_id,
        revision=revision,
        updated_at=updated_at,
        defaults={"type": models.Service.Type.CLASS, "name": name, "raw": {"name": name}},
    )


def test_upsert_creates_a_missing_row_with_its_version_and_payload():
    result = _upsert(revision="3", updated_at=T0, name="Swim")

    assert result.created and result.written
    row = models.Service.objects.get(wix_id="svc-1")
    assert (row.name, row.revision, row.wix_updated_at, row.raw) == ("Swim", 3, T0, {"name": "Swim"})
    assert row.synced_at is not None


def test_upsert_newer_revision_overwrites():
    _upsert(revision=3, updated_at=T0, name="Old")

    result = _upsert(revision="4", updated_at=T0 + timedelta(minutes=1), name="New")

    assert result.written and not result.created
    row = models.Service.objects.get(wix_id="svc-1")
    assert (row.name, row.revision, row.wix_updated_at) == ("New", 4, T0 + timedelta(minutes=1))


def test_upsert_older_revision_is_ignored_even_with_a_later_updated_date():
    _upsert(revision=5, updated_at=T0, name="Newest")

    result = _upsert(revision=4, updated_at=T0 + timedelta(hours=1), name="Stale")

    assert not result.written
    row = models.Service.objects.get(wix_id="svc-1")
    assert (row.name, row.revision, row.wix_updated_at) == ("Newest", 5, T0)


def test_upsert_equal_revision_changes_nothing():
    _upsert(revision=5, updated_at=T0, name="First")
    synced_at = models.Service.objects.get().synced_at

    result = _upsert(revision=5, updated_at=T0, name="Replayed")

    assert not result.written
    row = models.Service.objects.get()
    assert row.name == "First"
    assert row.synced_at == synced_at


def test_upsert_without_revisions_compares_updated_dates():
    _upsert(updated_at=T0, name="Nine")

    assert not _upsert(updated_at=T0 - timedelta(seconds=1), name="Older").written
    assert not _upsert(updated_at=T0, name="Same").written
    assert _upsert(updated_at=T0 + timedelta(seconds=1), name="Newer").written
    assert models.Service.objects.get().name == "Newer"


def test_upsert_without_revision_keeps_the_known_revision():
    _upsert(revision=2, updated_at=T0, name="Rev2")

    assert _upsert(updated_at=T0 + timedelta(minutes=5), name="From a webhook").written
    row = models.Service.objects.get()
    assert (row.revision, row.name) == (2, "From a webhook")
    assert not _upsert(revision=2, updated_at=T0, name="Replayed poll").written


def test_upsert_payload_without_any_version_cannot_replace_a_versioned_row():
    _upsert(revision=2, updated_at=T0, name="Versioned")

    assert not _upsert(name="Unversioned").written
    assert models.Service.objects.get().name == "Versioned"


def test_upsert_rows_without_versions_take_the_latest_payload():
    _upsert(name="A")

    assert _upsert(name="B").written
    assert models.Service.objects.get().name == "B"


def test_upsert_needs_a_wix_id():
    with pytest.raises(ValueError, match="Wix id"):
        _upsert("")


def test_upsert_works_for_rows_with_foreign_keys():
    service = factories.ServiceFactory()
    start = T0 + timedelta(days=1)

    result = models.Session.objects.upsert_from_wix(
        "event-1",
        revision="1",
        defaults={"service": service, "start": start, "end": start + timedelta(hours=1)},
    )

    assert result.created
    assert models.Session.objects.get(wix_id="event-1").service == service


def test_rows_created_at_the_desk_may_wait_for_a_wix_id():
    service = factories.ServiceFactory()
    first = factories.SessionFactory(service=service, wix_id=None)
    second = factories.SessionFactory(service=service, wix_id=None)

    assert first.wix_id is None and second.wix_id is None
    assert first.ref == str(first.pk)
