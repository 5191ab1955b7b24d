"""The progress a running sync reports, as the "Sync now" widget reads it."""

from __future__ import annotations

import pytest

from bookings_app.services import mirror, sync
from tests.services.conftest import SEEDED_AT


@pytest.mark.django_db
def test_progress_reports_the_running_phase_and_is_complete_when_done(demo, wix, monkeypatch):
    seen: list[sync.SyncProgress] = []
    real = mirror.bookings.extended_apply

    def spy(run, items, **kwargs):
        seen.append(sync.sync_progress_get())
        return real(run, items, **kwargs)

    monkeypatch.setattr(mirror.bookings, "extended_apply", spy)
    sync.sync_full(wix=wix)

    assert seen and all(p.running and p.phase == "Bookings, orders and payments" for p in seen)
    assert [p.percent for p in seen] == sorted(p.percent for p in seen)
    assert 0 < seen[0].percent < 100
    done = sync.sync_progress_get()
    assert not done.running and done.percent == 100 and done.last_success_at == SEEDED_AT
