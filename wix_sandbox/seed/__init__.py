"""The demo business: a lakeside swim club with a spa (``--seed demo`` and ``make run``).

Deterministic (one seed). The catalog and past sessions are written as entities; everything a
customer or the Wix dashboard would have *done* — buying plans, booking, paying, attending — goes
through the sandbox's own endpoints, so the demo's bookings, orders, payments and plan credits
obey exactly the rules the app will meet.

:func:`seed_demo` is the list of steps, in order: they share one random stream, so their order is
part of the demo.
"""

from __future__ import annotations

from datetime import datetime

from wix_sandbox.app import Sandbox
from wix_sandbox.seed.catalog import add_places, add_services, add_spa_menu, add_staff
from wix_sandbox.seed.customers import add_customers, add_members, add_plans, sell_plans
from wix_sandbox.seed.demo import Demo, SeedError
from wix_sandbox.seed.history import book_a_season_of_classes, book_spa_appointments, enrol_the_course
from wix_sandbox.seed.sessions import (
    add_course_sessions,
    add_past_sessions,
    add_spa_working_hours,
    schedule_future_sessions,
)
from wix_sandbox.state import SandboxState

__all__ = ["SeedError", "seed_demo"]


def seed_demo(sb: Sandbox, *, seed: int = 2026, today: datetime | None = None, weeks_back: int = 8) -> dict[str, int]:
    """Fill an empty sandbox with the demo swim club. Returns counts of what was created.

    A file-backed sandbox is seeded in memory first and written to the file in one go
    (thousands of small transactions on disk would take minutes).
    """
    if sb.state.path:
        return _seed_in_memory_then_copy(sb, seed=seed, today=today, weeks_back=weeks_back)
    demo = Demo.start(sb, seed=seed, today=today, weeks_back=weeks_back)
    add_places(demo)
    add_staff(demo)
    add_services(demo)
    add_past_sessions(demo)
    schedule_future_sessions(demo)
    add_course_sessions(demo)
    add_spa_working_hours(demo)
    add_customers(demo)
    add_plans(demo)
    add_members(demo)
    sell_plans(demo)
    book_a_season_of_classes(demo)
    enrol_the_course(demo)
    book_spa_appointments(demo)
    add_spa_menu(demo)
    return demo.summary()


def _seed_in_memory_then_copy(sb: Sandbox, *, seed: int, today: datetime | None, weeks_back: int) -> dict[str, int]:
    scratch = Sandbox(
        state=SandboxState(clock=sb.state._clock, seed=seed),  # noqa: SLF001
        site_id=sb.site_id,
        api_key=sb.api_key,
        business_timezone=sb.business_timezone,
        currency=sb.currency,
    )
    summary = seed_demo(scratch, seed=seed, today=today, weeks_back=weeks_back)
    sb.state.copy_from(scratch.state)
    return summary
