"""The window the sync mirrors."""

from __future__ import annotations

from datetime import UTC, datetime

from bookings_app.services import sync


def test_the_window_runs_from_a_week_back_to_sixty_days_ahead_in_local_time():
    window = sync.sync_window(now=datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 00:30 on 2 July in London

    assert window.start.isoformat() == "2026-06-25T00:00:00+01:00"
    assert window.end.isoformat() == "2026-09-01T00:00:00+01:00"
