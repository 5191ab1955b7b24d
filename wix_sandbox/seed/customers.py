"""The club's customers: 320 contacts, the two pricing plans, 90 members and the 75 plans they bought."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from wix_sandbox.handlers.plans import plan_create
from wix_sandbox.seed.demo import Demo

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence Emily Ella Poppy "
    "Evie Elsie Charlotte Noah Oliver George Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie "
    "Jack Charlie Theo Alfie Jacob Thomas Finley Arlo Priya Aisha Zara Omar Yusuf Mateo Lucia Sofia Hana Kenji"
).split()
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore "
    "Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips"
).split()


def add_customers(demo: Demo) -> None:
    """320 contacts with names, emails and phones, created through Contacts."""
    rng = demo.rng
    used_emails: set[str] = set()
    for i in range(320):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{'' if i < 60 else i}@example.com".lower()
        if email in used_emails:
            email = f"{first}.{last}.{i}@example.com".lower()
        used_emails.add(email)
        phone = f"07700 9{rng.randint(0, 99999):05d}"
        info = {
            "name": {"first": first, "last": last},
            "emails": {"items": [{"tag": "MAIN", "email": email, "primary": True}]},
            "phones": {"items": [{"tag": "MOBILE", "countryCode": "GB", "phone": phone, "primary": True}]},
        }
        demo.contacts.append(demo.api("POST", "/contacts/v4/contacts", {"info": info})["contact"])


def add_plans(demo: Demo) -> None:
    """A 10-swim pass and an unlimited monthly subscription, both covering the two classes."""
    sb, swim, sunset = demo.sb, demo.swim, demo.sunset
    with demo.st.transaction():
        demo.pass_plan = plan_create(
            sb,
            name="10-Swim Pass",
            price="100",
            credits=10,
            service_ids=[swim["id"], sunset["id"]],
            pricing_model={"singlePaymentForDuration": {"count": 6, "unit": "MONTH"}},
            description="Ten open water swims, valid six months",
            perks=["Any open water session", "Skip the queue at the desk"],
            unit_display_name="Swims",
        )
        demo.unlimited_plan = plan_create(
            sb,
            name="Unlimited Monthly",
            price="65",
            credits=None,
            service_ids=[swim["id"], sunset["id"]],
            pricing_model={"subscription": {"cycleDuration": {"count": 1, "unit": "MONTH"}, "cycleCount": 0}},
            description="Swim as often as you like",
            perks=["Every open water session"],
        )


def add_members(demo: Demo) -> None:
    """The first 90 contacts are site members."""
    for contact in demo.contacts[:90]:
        member = demo.put(
            "members",
            {
                "loginEmail": contact["primaryInfo"]["email"],
                "status": "APPROVED",
                "contactId": contact["id"],
                "profile": {
                    "nickname": contact["info"]["name"]["first"],
                    "slug": contact["info"]["name"]["first"].lower() + contact["id"][:4],
                },
                "privacyStatus": "PRIVATE",
                "activityStatus": "ACTIVE",
            },
        )
        demo.members.append(member)


def sell_plans(demo: Demo) -> None:
    """On the first day of history, 50 members bought the pass and 25 the unlimited plan (paid offline orders)."""
    st, tz = demo.st, demo.tz
    st.set_clock(lambda: datetime.combine(demo.first_day, time(8)).replace(tzinfo=tz))
    try:
        for i, member in enumerate(demo.members):
            plan: dict[str, Any] | None = demo.pass_plan if i < 50 else demo.unlimited_plan if i < 75 else None
            if plan is None:
                continue
            demo.api(
                "POST",
                "/pricing-plans/v2/checkout/orders/offline",
                {"planId": plan["id"], "memberId": member["id"], "paid": True},
            )
            demo.plan_holders[member["contactId"]] = member["id"]
    finally:
        st.set_clock(demo.real_clock)
