"""Fault settings (``faults.py``), as ``--faults`` spells them."""

from __future__ import annotations

import pytest

from wix_sandbox import Faults


def test_faults_parse_from_a_spec_string() -> None:
    faults = Faults.parse(
        "latency_ms=150,error_5xx_rate=0.1,timeout_rate=0.05,lost_response_rate=0.02,rate_limit_per_minute=200"
    )
    assert faults.latency_ms == 150 and faults.error_5xx_rate == 0.1 and faults.rate_limit_per_minute == 200
    with pytest.raises(ValueError):
        Faults.parse("nonsense=1")


def test_membership_charge_settings_parse_and_are_checked() -> None:
    faults = Faults.parse("membership_settlement=manual, membership_decline_rate=1")
    assert (faults.membership_settlement, faults.membership_decline_rate) == ("manual", 1.0)
    assert (Faults().membership_settlement, Faults().membership_decline_rate) == ("next_call", 0.0)
    with pytest.raises(ValueError):
        Faults.parse("membership_settlement=later")
