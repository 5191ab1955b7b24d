"""The demo being seeded: the sandbox, one random stream, the clock, and what each step has made."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import iso
from wix_sandbox.state import SandboxState


class SeedError(RuntimeError):
    pass


class Api:
    """Calls the sandbox in-process, as the Wix dashboard / customers would have."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.headers = {"authorization": sb.api_key, "wix-site-id": sb.site_id}

    def __call__(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        q = {k: (v if isinstance(v, list) else [str(v)]) for k, v in query.items()}
        resp = self.sb.handle(
            method, path, q, self.headers, json.dumps(body or {}).encode() if body is not None else b""
        )
        if resp.status != 200:
            raise SeedError(f"{method} {path} -> {resp.status} {resp.body}")
        return resp.body


@dataclass
class Demo:
    """Everything the seed steps share. Each step adds what it made for the steps after it."""

    sb: Sandbox
    rng: random.Random
    tz: ZoneInfo
    real_clock: Callable[[], datetime]
    now: datetime
    weeks_back: int
    api: Api
    # places and people
    lake: dict[str, Any] = field(default_factory=dict)
    spa: dict[str, Any] = field(default_factory=dict)
    coach: dict[str, Any] = field(default_factory=dict)
    teacher: dict[str, Any] = field(default_factory=dict)
    maya: dict[str, Any] = field(default_factory=dict)
    ravi: dict[str, Any] = field(default_factory=dict)
    # services
    swim: dict[str, Any] = field(default_factory=dict)
    sunset: dict[str, Any] = field(default_factory=dict)
    course: dict[str, Any] = field(default_factory=dict)
    massage: dict[str, Any] = field(default_factory=dict)
    stone: dict[str, Any] = field(default_factory=dict)
    # sessions written as entities, by day
    swim_events: dict[date, dict[str, Any]] = field(default_factory=dict)
    sunset_events: dict[date, dict[str, Any]] = field(default_factory=dict)
    course_days: list[date] = field(default_factory=list)
    # customers
    contacts: list[dict[str, Any]] = field(default_factory=list)
    pass_plan: dict[str, Any] = field(default_factory=dict)
    unlimited_plan: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    plan_holders: dict[str, str] = field(default_factory=dict)  # contact id -> member id, for those with a live plan
    counts: dict[str, int] = field(
        default_factory=lambda: {"bookings": 0, "paid": 0, "plan": 0, "unpaid": 0, "attended": 0}
    )

    @classmethod
    def start(cls, sb: Sandbox, *, seed: int, today: datetime | None, weeks_back: int) -> Demo:
        rng = random.Random(seed)
        tz = ZoneInfo(sb.business_timezone)
        real_clock = sb.state._clock  # noqa: SLF001 - the seed moves the sandbox clock through history
        now = (today or real_clock()).astimezone(tz)
        return cls(sb=sb, rng=rng, tz=tz, real_clock=real_clock, now=now, weeks_back=weeks_back, api=Api(sb))

    @property
    def st(self) -> SandboxState:
        return self.sb.state

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def first_day(self) -> date:
        """The first day of the history."""
        return self.today - timedelta(days=self.weeks_back * 7)

    @property
    def until(self) -> date:
        """The last day of the calendar ahead."""
        return self.today + timedelta(days=60)

    def at(self, day: Any, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(day, time(hh, mm))

    def put(self, coll: str, entity: dict[str, Any]) -> dict[str, Any]:
        """Write a catalog entity directly, dated before the history starts."""
        st = self.st
        entity.setdefault("id", st.new_id())
        stamp = iso(self.now - timedelta(days=self.weeks_back * 7 + 30))
        entity.setdefault("createdDate", stamp)
        entity.setdefault("updatedDate", stamp)
        with st.transaction():
            st.put(coll, entity)
        return entity

    def summary(self) -> dict[str, int]:
        """Counts of what was created."""
        st = self.st
        return {
            "services": st.count("services"),
            "staff": st.count("staff_members"),
            "sessions": st.count("events"),
            "contacts": st.count("contacts"),
            "members": st.count("members"),
            "plan_orders": st.count("plan_orders"),
            **self.counts,
            "orders": st.count("orders"),
        }
