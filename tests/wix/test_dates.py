"""Wix timestamps and local date-times (``wix/dates.py``)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings_app.wix.dates import wix_local_parse, wix_timestamp, wix_timestamp_parse

LONDON = ZoneInfo("Europe/London")


def test_a_wix_timestamp_reads_as_utc_and_writes_back_the_same():
    moment = wix_timestamp_parse("2026-01-30T13:30:00.123Z")

    assert moment == datetime(2026, 1, 30, 13, 30, 0, 123000, tzinfo=UTC)
    assert wix_timestamp(moment) == "2026-01-30T13:30:00.123Z"


def test_a_timestamp_with_an_offset_keeps_it_and_is_written_in_utc():
    moment = wix_timestamp_parse("2026-07-01T09:00:00+01:00")

    assert moment.utcoffset() == timedelta(hours=1)
    assert wix_timestamp(moment) == "2026-07-01T08:00:00.000Z"


def test_a_local_date_time_is_in_the_zone_given():
    assert wix_local_parse("2026-07-01T07:00:00", LONDON) == datetime(2026, 7, 1, 7, tzinfo=LONDON)
    assert wix_local_parse("2026-07-01T07:00:00Z", LONDON) == datetime(2026, 7, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", 42, "not a date", "2026-13-01T00:00:00Z"])
def test_what_is_not_a_date_reads_as_none(value):
    assert wix_timestamp_parse(value) is None
    assert wix_local_parse(value, LONDON) is None
