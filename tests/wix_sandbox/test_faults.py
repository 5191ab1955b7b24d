"""Fault settings (``faults.py``), as ``--faults`` spells them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.builders import make_event, make_service
from wix_sandbox import Faults, Sandbox


def test_faults_parse_from_a_spec_string() -> None:
    faults = Faults.parse(
        "latency_ms=150,error_5xx_rate=0.1,timeout_rate=0.05,lost_response_rate=0.02,rate_limit_per_minute=200"
    )
    assert faults.latency_ms == 150 and faults.error_5xx_rate == 0.1 and faults.rate_limit_per_minute == 200
    with pytest.raises(ValueError):
        Faults.parse("nonsense=1")


def test_partial_bulk_applies_the_first_half_then_answers_500() -> None:
    sandbox = Sandbox(faults=Faults(partial_bulk_rate=1.0))
    service = make_service(sandbox)
    event = make_event(sandbox, service, datetime(2026, 11, 22, 7, 0))
    slot = {"serviceId": service["id"], "eventId": event["id"]}
    item = {"booking": {"bookedEntity": {"slot": slot}, "totalParticipants": 1}}
    headers = {"authorization": sandbox.api_key, "wix-site-id": sandbox.site_id}

    def post(path: str, body: dict) -> Any:
        return sandbox.handle("POST", path, {}, headers, json.dumps(body).encode())

    answer = post("/bookings/v2/bulk/bookings/create", {"createBookingsInfo": [item] * 5})
    single = post("/_api/bookings-service/v2/bookings", item)

    assert answer.status == 500 and answer.body["details"]["applicationError"]["code"] == "INTERNAL_ERROR"
    assert single.status == 200  # not a bulk call: untouched
    assert len(sandbox.state.all("bookings")) == 2 + 1  # 2 of the 5 (the first half), and the single one
    assert Faults.parse("partial_bulk_rate=0.5").partial_bulk_rate == 0.5


def test_membership_charge_settings_parse_and_are_checked() -> None:
    faults = Faults.parse("membership_settlement=manual, membership_decline_rate=1")
    assert (faults.membership_settlement, faults.membership_decline_rate) == ("manual", 1.0)
    assert (Faults().membership_settlement, Faults().membership_decline_rate) == ("next_call", 0.0)
    with pytest.raises(ValueError):
        Faults.parse("membership_settlement=later")
