"""The demo business: a lakeside swim club with a spa (``--seed demo`` and ``make run``).

Deterministic (one seed). The catalog and past sessions are written as entities; everything a
customer or the Wix dashboard would have *done* — buying plans, booking, paying, attending — goes
through the sandbox's own endpoints, so the demo's bookings, orders, payments and plan credits
obey exactly the rules the app will meet.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .app import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox
from .common import iso, local_str
from .state import SandboxState

STAFF_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"

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


class SeedError(RuntimeError):
    pass


class _Api:
    """Calls the sandbox in-process, as the Wix dashboard / customers would have."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.headers = {"authorization": sb.api_key, "wix-site-id": sb.site_id}

    def __call__(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        import json

        q = {k: (v if isinstance(v, list) else [str(v)]) for k, v in query.items()}
        resp = self.sb.handle(
            method, path, q, self.headers, json.dumps(body or {}).encode() if body is not None else b""
        )
        if resp.status != 200:
            raise SeedError(f"{method} {path} -> {resp.status} {resp.body}")
        return resp.body


def seed_demo(sb: Sandbox, *, seed: int = 2026, today: datetime | None = None, weeks_back: int = 8) -> dict[str, int]:
    """Fill an empty sandbox with the demo swim club. Returns counts of what was created.

    A file-backed sandbox is seeded in memory first and written to the file in one go
    (thousands of small transactions on disk would take minutes).
    """
    if sb.state.path:
        scratch = Sandbox(
            state=SandboxState(clock=sb.state._clock, seed=seed),  # noqa: SLF001
            site_id=sb.site_id,
            api_key=sb.api_key,
            business_timezone=sb.business_timezone,
            currency=sb.currency,
        )
        summary = _seed(scratch, seed=seed, today=today, weeks_back=weeks_back)
        sb.state.copy_from(scratch.state)
        return summary
    return _seed(sb, seed=seed, today=today, weeks_back=weeks_back)


def _seed(sb: Sandbox, *, seed: int, today: datetime | None, weeks_back: int) -> dict[str, int]:
    rng = random.Random(seed)
    tz = ZoneInfo(sb.business_timezone)
    real_clock = sb.state._clock  # noqa: SLF001 - the seed moves the sandbox clock through history
    now = (today or real_clock()).astimezone(tz)
    today_date = now.date()
    api = _Api(sb)
    st = sb.state

    def at(day: Any, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(day, time(hh, mm))

    def put(coll: str, entity: dict[str, Any]) -> dict[str, Any]:
        entity.setdefault("id", st.new_id())
        stamp = iso(now - timedelta(days=weeks_back * 7 + 30))
        entity.setdefault("createdDate", stamp)
        entity.setdefault("updatedDate", stamp)
        with st.transaction():
            st.put(coll, entity)
        return entity

    # -- places and people ----------------------------------------------------------------
    lake = put("locations", {"name": "Lakeside Centre", "formattedAddress": "1 Lake Road, Windermere LA23 1AA, UK"})
    spa = put("locations", {"name": "The Boathouse Spa", "formattedAddress": "3 Lake Road, Windermere LA23 1AA, UK"})

    def staff(name: str, email: str) -> dict[str, Any]:
        resource = put(
            "resources",
            {"name": name, "typeId": STAFF_TYPE_ID, "revision": "1", "eventsSchedule": {"id": st.new_id()}},
        )
        return put(
            "staff_members",
            {
                "name": name,
                "email": email,
                "phone": "+44 15394 40" + str(rng.randint(100, 999)),
                "resourceId": resource["id"],
                "resource": {"id": resource["id"], "eventsSchedule": resource["eventsSchedule"]},
                "revision": "1",
            },
        )

    coach = staff("Sam Rivers", "sam@lakesideswim.example")
    teacher = staff("Lena Fischer", "lena@lakesideswim.example")
    maya = staff("Maya Thompson", "maya@lakesideswim.example")
    ravi = staff("Ravi Patel", "ravi@lakesideswim.example")

    def service(
        name: str,
        type_: str,
        price: str,
        capacity: int,
        loc: dict[str, Any],
        staff_members: list[dict[str, Any]],
        minutes: int,
        plans: bool,
    ) -> dict[str, Any]:
        return put(
            "services",
            {
                "appId": BOOKINGS_APP_ID,
                "type": type_,
                "name": name,
                "description": f"{name} at Lakeside Swim Club",
                "defaultCapacity": capacity,
                "hidden": False,
                "category": {
                    "id": "5e1f0000-0000-4000-8000-00000000000" + ("1" if loc is lake else "2"),
                    "name": "Swimming" if loc is lake else "Spa",
                },
                "payment": {
                    "rateType": "FIXED",
                    "fixed": {"price": {"value": price, "currency": sb.currency}},
                    "options": {"online": True, "inPerson": True, "deposit": False, "pricingPlan": plans},
                    "pricingPlanIds": [],
                },
                "onlineBooking": {"enabled": True, "requireManualApproval": False, "allowMultipleRequests": False},
                "locations": [
                    {
                        "id": loc["id"],
                        "type": "BUSINESS",
                        "business": {
                            "id": loc["id"],
                            "name": loc["name"],
                            "address": {"formattedAddress": loc["formattedAddress"]},
                        },
                    }
                ],
                "schedule": {
                    "id": st.new_id(),
                    "availabilityConstraints": {"sessionDurations": [minutes], "timeBetweenSessions": 0},
                },
                "staffMemberIds": [s["id"] for s in staff_members],
                "revision": "1",
            },
        )

    swim = service("Open Water Swim", "CLASS", "12", 120, lake, [coach], 60, True)
    sunset = service("Sunset Swim", "CLASS", "14", 100, lake, [coach], 60, True)
    course = service("Learn to Swim Outdoors (8 weeks)", "COURSE", "160", 12, lake, [teacher], 90, False)
    massage = service("Sports Massage", "APPOINTMENT", "55", 1, spa, [maya, ravi], 60, False)
    stone = service("Hot Stone Spa Treatment", "APPOINTMENT", "80", 1, spa, [maya, ravi], 90, False)

    # -- sessions ---------------------------------------------------------------------------
    def event(
        svc: dict[str, Any], start: datetime, minutes: int, who: dict[str, Any], capacity: int | None = None
    ) -> dict[str, Any]:
        loc = svc["locations"][0]
        return put(
            "events",
            {
                "scheduleId": svc["schedule"]["id"],
                "externalScheduleId": svc["id"],
                "type": svc["type"],
                "status": "CONFIRMED",
                "title": svc["name"],
                "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
                "end": {"localDate": local_str(start + timedelta(minutes=minutes)), "timeZone": sb.business_timezone},
                "timeZone": sb.business_timezone,
                "resources": [{"id": who["resourceId"], "name": who["name"], "permissionRole": "WRITER"}],
                "totalCapacity": capacity if capacity is not None else svc["defaultCapacity"],
                "location": {
                    "id": loc["id"],
                    "name": loc["business"]["name"],
                    "formattedAddress": loc["business"]["address"]["formattedAddress"],
                    "type": "BUSINESS",
                },
                "recurrenceType": "NONE",
                "appId": BOOKINGS_APP_ID,
                "revision": "1",
            },
        )

    first_day = today_date - timedelta(days=weeks_back * 7)
    swim_events: dict[Any, dict[str, Any]] = {}
    sunset_events: dict[Any, dict[str, Any]] = {}
    day = first_day
    while day <= today_date:
        swim_events[day] = event(swim, at(day, 7), 60, coach)
        if day.weekday() < 5:
            sunset_events[day] = event(sunset, at(day, 18, 30), 60, coach)
        day += timedelta(days=1)

    # Future sessions go through Calendar V3 like an admin's recurring schedule would: one
    # weekly MASTER per weekday (Wix allows a single day per rule).
    weekday_names = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    tomorrow = today_date + timedelta(days=1)
    until = today_date + timedelta(days=60)
    masters = []
    for offset in range(7):
        d = tomorrow + timedelta(days=offset)
        masters.append(_event_payload(sb, swim, at(d, 7), 60, coach, weekday_names[d.weekday()], until))
        if d.weekday() < 5:
            masters.append(_event_payload(sb, sunset, at(d, 18, 30), 60, coach, weekday_names[d.weekday()], until))
    for chunk_start in range(0, len(masters), 50):
        api(
            "POST",
            "/calendar/v3/bulk/events/create",
            {"events": [{"event": m} for m in masters[chunk_start : chunk_start + 50]]},
        )

    # The course: 8 Saturday sessions, 3 already run.
    saturday = today_date - timedelta(days=(today_date.weekday() - 5) % 7)
    course_days = [saturday - timedelta(weeks=3) + timedelta(weeks=i) for i in range(8)]
    course_events = [event(course, at(d, 10), 90, teacher) for d in course_days]
    course_entity = st.edit("services", course["id"])
    assert course_entity is not None
    course_entity["schedule"]["firstSessionStart"] = iso(at(course_days[0], 10).replace(tzinfo=tz))
    course_entity["schedule"]["lastSessionEnd"] = iso(
        (at(course_days[-1], 10) + timedelta(minutes=90)).replace(tzinfo=tz)
    )
    with st.transaction():
        st.put("services", course_entity)
    del course_events

    # Spa working hours (Mon–Sat 09:00–17:00) from two weeks back to 60 days ahead.
    day = today_date - timedelta(days=14)
    while day <= until:
        if day.weekday() < 6:
            for therapist in (maya, ravi):
                put(
                    "events",
                    {
                        "scheduleId": therapist["resource"]["eventsSchedule"]["id"],
                        "type": "WORKING_HOURS",
                        "status": "CONFIRMED",
                        "title": "Working hours",
                        "start": {"localDate": local_str(at(day, 9)), "timeZone": sb.business_timezone},
                        "end": {"localDate": local_str(at(day, 17)), "timeZone": sb.business_timezone},
                        "timeZone": sb.business_timezone,
                        "resources": [
                            {"id": therapist["resourceId"], "name": therapist["name"], "permissionRole": "WRITER"}
                        ],
                        "recurrenceType": "NONE",
                        "revision": "1",
                    },
                )
        day += timedelta(days=1)

    # -- customers, members, plans ---------------------------------------------------------------
    contacts: list[dict[str, Any]] = []
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
        contacts.append(api("POST", "/contacts/v4/contacts", {"info": info})["contact"])

    from .handlers.plans import plan_create

    with st.transaction():
        pass_plan = plan_create(
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
        unlimited_plan = plan_create(
            sb,
            name="Unlimited Monthly",
            price="65",
            credits=None,
            service_ids=[swim["id"], sunset["id"]],
            pricing_model={"subscription": {"cycleDuration": {"count": 1, "unit": "MONTH"}, "cycleCount": 0}},
            description="Swim as often as you like",
            perks=["Every open water session"],
        )

    members: list[dict[str, Any]] = []
    plan_holders: dict[str, str] = {}  # contact id -> member id, for those with a live plan
    for contact in contacts[:90]:
        member = put(
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
        members.append(member)

    st.set_clock(lambda: datetime.combine(first_day, time(8)).replace(tzinfo=tz))
    try:
        for i, member in enumerate(members):
            plan = pass_plan if i < 50 else unlimited_plan if i < 75 else None
            if plan is None:
                continue
            api(
                "POST",
                "/pricing-plans/v2/checkout/orders/offline",
                {"planId": plan["id"], "memberId": member["id"], "paid": True},
            )
            plan_holders[member["contactId"]] = member["id"]
    finally:
        st.set_clock(real_clock)

    # -- a season of bookings -------------------------------------------------------------------
    counts = {"bookings": 0, "paid": 0, "plan": 0, "unpaid": 0, "attended": 0}

    def book_class(
        ev: dict[str, Any], svc: dict[str, Any], contact: dict[str, Any], when: datetime, *, today_class: bool
    ) -> None:
        st.set_clock(lambda: when)
        if contact["id"] in plan_holders:
            option = "MEMBERSHIP"
        elif today_class:
            option = "ONLINE" if rng.random() < 0.12 else "OFFLINE"
        else:
            option = rng.choice(["OFFLINE", "OFFLINE", "ONLINE"])
        booking = api(
            "POST",
            "/_api/bookings-service/v2/bookings",
            {
                "booking": {
                    "bookedEntity": {"slot": {"serviceId": svc["id"], "eventId": ev["id"]}},
                    "contactDetails": {
                        "contactId": contact["id"],
                        "firstName": contact["info"]["name"]["first"],
                        "lastName": contact["info"]["name"]["last"],
                        "email": contact["primaryInfo"]["email"],
                    },
                    "totalParticipants": 1,
                    "selectedPaymentOption": option,
                    "status": "CONFIRMED" if today_class else "CREATED",
                },
                "flowControlSettings": {"skipAvailabilityValidation": True},
            },
        )["booking"]
        counts["bookings"] += 1
        if today_class:
            # Today's class was booked online and is settled at the desk: plan holders have not
            # been charged yet; a few paid online; the rest chose "pay in person" (order NOT_PAID).
            if contact["id"] in plan_holders:
                counts["unpaid"] += 1
            elif option == "ONLINE":
                _order_for(api, booking, "WEB")
                counts["paid"] += 1
            else:
                _order_for(api, booking, "WEB", pay=False)
                counts["unpaid"] += 1
            return
        _pay_past_booking(api, rng, booking, contact, plan_holders, counts)
        if rng.random() < 0.92:
            api(
                "POST",
                "/bookings/bookings-attendance/set",
                {
                    "attendance": {
                        "bookingId": booking["id"],
                        "eventId": ev["id"],
                        "status": "ATTENDED",
                        "numberOfAttendees": 1,
                    }
                },
            )
            counts["attended"] += 1

    try:
        for day, ev in sorted(swim_events.items()):
            is_today = day == today_date
            size = 100 if is_today else rng.randint(35, 70)
            for contact in rng.sample(contacts, size):
                book_class(
                    ev,
                    swim,
                    contact,
                    at(day, 6).replace(tzinfo=tz) - timedelta(hours=rng.randint(1, 72)),
                    today_class=is_today,
                )
        for day, ev in sorted(sunset_events.items()):
            if day == today_date:
                continue
            for contact in rng.sample(contacts, rng.randint(15, 30)):
                book_class(ev, sunset, contact, at(day, 12).replace(tzinfo=tz), today_class=False)
    finally:
        st.set_clock(real_clock)

    # The course: ten enrolled before it started, most paid up front, two still owing.
    try:
        st.set_clock(lambda: at(course_days[0], 9).replace(tzinfo=tz) - timedelta(days=10))
        for contact in rng.sample(contacts, 10):
            booking = api(
                "POST",
                "/_api/bookings-service/v2/bookings",
                {
                    "booking": {
                        "bookedEntity": {
                            "schedule": {
                                "scheduleId": course["schedule"]["id"],
                                "serviceId": course["id"],
                                "timezone": sb.business_timezone,
                                "location": {"id": lake["id"], "locationType": "OWNER_BUSINESS"},
                            }
                        },
                        "contactDetails": {
                            "contactId": contact["id"],
                            "firstName": contact["info"]["name"]["first"],
                            "lastName": contact["info"]["name"]["last"],
                            "email": contact["primaryInfo"]["email"],
                        },
                        "totalParticipants": 1,
                        "selectedPaymentOption": "OFFLINE",
                        "status": "CONFIRMED",
                    }
                },
            )["booking"]
            counts["bookings"] += 1
            order_id = _order_for(api, booking, "BACKOFFICE_MERCHANT", pay=False)
            if rng.random() < 0.8:
                _pay_online(api, order_id)
                counts["paid"] += 1
            else:
                counts["unpaid"] += 1
    finally:
        st.set_clock(real_clock)

    # Spa appointments: a few a day for the past two weeks and the coming week.
    try:
        spa_day = today_date - timedelta(days=14)
        while spa_day <= today_date + timedelta(days=7):
            if spa_day.weekday() < 6:
                for hour, svc, therapist in ((10, massage, maya), (14, stone, ravi), (15, massage, maya)):
                    if rng.random() < 0.3:
                        continue
                    contact = rng.choice(contacts)
                    minutes = svc["schedule"]["availabilityConstraints"]["sessionDurations"][0]
                    start = at(spa_day, hour)
                    st.set_clock(lambda d=spa_day: at(d, 8).replace(tzinfo=tz) - timedelta(days=3))
                    booking = api(
                        "POST",
                        "/_api/bookings-service/v2/bookings",
                        {
                            "booking": {
                                "bookedEntity": {
                                    "slot": {
                                        "serviceId": svc["id"],
                                        "scheduleId": svc["schedule"]["id"],
                                        "startDate": local_str(start),
                                        "endDate": local_str(start + timedelta(minutes=minutes)),
                                        "timezone": sb.business_timezone,
                                        "resource": {"id": therapist["resourceId"], "name": therapist["name"]},
                                        "location": {
                                            "id": spa["id"],
                                            "name": spa["name"],
                                            "locationType": "OWNER_BUSINESS",
                                        },
                                    }
                                },
                                "contactDetails": {
                                    "contactId": contact["id"],
                                    "firstName": contact["info"]["name"]["first"],
                                    "lastName": contact["info"]["name"]["last"],
                                    "email": contact["primaryInfo"]["email"],
                                },
                                "totalParticipants": 1,
                                "selectedPaymentOption": "OFFLINE",
                                "status": "CONFIRMED",
                            }
                        },
                    )["booking"]
                    counts["bookings"] += 1
                    if spa_day < today_date:
                        _pay_past_booking(api, rng, booking, contact, {}, counts)
            spa_day += timedelta(days=1)
    finally:
        st.set_clock(real_clock)

    return {
        "services": st.count("services"),
        "staff": st.count("staff_members"),
        "sessions": st.count("events"),
        "contacts": st.count("contacts"),
        "members": st.count("members"),
        "plan_orders": st.count("plan_orders"),
        **counts,
        "orders": st.count("orders"),
    }


def _pay_past_booking(
    api: _Api,
    rng: random.Random,
    booking: dict[str, Any],
    contact: dict[str, Any],
    plan_holders: dict[str, str],
    counts: dict[str, int],
) -> None:
    """Pay a past booking the way it happened: online, cash at the desk, a plan, or never."""
    member_id = plan_holders.get(contact["id"])
    checkout = api(
        "POST",
        "/ecom/v1/checkouts",
        {
            "channelType": "BACKOFFICE_MERCHANT"
            if member_id or booking["selectedPaymentOption"] == "OFFLINE"
            else "WEB",
            "lineItems": [
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
        },
    )["checkout"]
    line_id = checkout["lineItems"][0]["id"]
    eligible = (checkout.get("membershipOptions") or {}).get("eligibleMemberships") or []
    if member_id and eligible:
        api(
            "PATCH",
            f"/ecom/v1/checkouts/{checkout['id']}",
            {
                "checkout": {
                    "id": checkout["id"],
                    "membershipOptions": {
                        "selectedMemberships": {
                            "memberships": [
                                {"id": eligible[0]["id"], "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}
                            ]
                        }
                    },
                }
            },
        )
        api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})
        counts["plan"] += 1
        return
    order_id = api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})["orderId"]
    roll = rng.random()
    if roll < 0.85:
        method = (
            rng.choice(["CASH", "CASH", "CASH", "CARD", "CHECK"])
            if booking["selectedPaymentOption"] == "OFFLINE"
            else None
        )
        if method:
            order = api("GET", f"/ecom/v1/orders/{order_id}")["order"]
            amount = order["balanceSummary"]["balance"]["amount"]
            api(
                "POST",
                f"/ecom/v1/payments/orders/{order_id}/add-payment",
                {
                    "payments": [
                        {
                            "amount": {"amount": amount},
                            "status": "APPROVED",
                            "regularPaymentDetails": {
                                "offlinePayment": True,
                                "paymentMethodName": {
                                    "userDefinedName": {"custom": "Card"}
                                    if method == "CARD"
                                    else {"predefined": method}
                                },
                            },
                        }
                    ]
                },
            )
        else:
            _pay_online(api, order_id)
        counts["paid"] += 1
    else:
        counts["unpaid"] += 1


def _order_for(api: _Api, booking: dict[str, Any], channel: str, *, pay: bool = True) -> str:
    """Check a booking out into an eCommerce order; ``pay`` settles it (online)."""
    checkout = api(
        "POST",
        "/ecom/v1/checkouts",
        {
            "channelType": channel,
            "lineItems": [
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
        },
    )["checkout"]
    order_id = api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})["orderId"]
    if pay:
        _pay_online(api, order_id)
    return order_id


def _pay_online(api: _Api, order_id: str) -> None:
    """The customer paid by card on the website: a regular, not offline, payment."""
    order = api("GET", f"/ecom/v1/orders/{order_id}")["order"]
    api(
        "POST",
        f"/ecom/v1/payments/orders/{order_id}/add-payment",
        {
            "payments": [
                {
                    "amount": {"amount": order["balanceSummary"]["balance"]["amount"]},
                    "status": "APPROVED",
                    "regularPaymentDetails": {
                        "offlinePayment": False,
                        "paymentOrderId": order_id,
                        "paymentMethodName": {"buyerLanguageName": "Credit / Debit Card"},
                    },
                }
            ]
        },
    )


def _event_payload(
    sb: Sandbox, svc: dict[str, Any], start: datetime, minutes: int, who: dict[str, Any], weekday: str, until: Any
) -> dict[str, Any]:
    return {
        "scheduleId": svc["schedule"]["id"],
        "externalScheduleId": svc["id"],
        "type": svc["type"],
        "title": svc["name"],
        "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
        "end": {"localDate": local_str(start + timedelta(minutes=minutes)), "timeZone": sb.business_timezone},
        "resources": [{"id": who["resourceId"], "permissionRole": "WRITER"}],
        "totalCapacity": svc["defaultCapacity"],
        "recurrenceRule": {
            "frequency": "WEEKLY",
            "interval": 1,
            "days": [weekday],
            "until": {"localDate": local_str(datetime.combine(until, time(23, 59)))},
        },
    }
