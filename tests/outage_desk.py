"""The front desk of the outage drill (``tests/test_outage_drill.py``): a process of its own on
the drill's database, as a desk tablet's requests are served by a web process that is neither
the worker nor the test. It prints one line of JSON.

    python -m tests.outage_desk arrange '{"people": 48, "members": [0, 4], "credits": 5}'
    python -m tests.outage_desk act '{"session": "…", "clicks": [...]}'
    python -m tests.outage_desk look '{"session": "…", "until": ["Wix is not answering"], "timeout": 30}'

``arrange`` (in sandbox mode, on the sandbox's state file, before its server runs): tomorrow's
Open Water Swim (capacity 120, 12.00), a 10-swim pass, the people (the ``members`` with a pass
and ``credits`` left), the Front desk user, and the mirror by the real sync — the desk tests'
``World``.

``act`` and ``look`` (in API-key mode, Wix being the standalone sandbox over HTTP): a Front desk
user signed in through Django's test client, clicking as the roster's buttons post (htmx):

- ``{"do": "walk_in", "contact": pk, "pay": "CASH" | "CARD" | "PLAN:<balance pk>" | ""}``
  (``""``: decide later), the walk-in panel's one tap;
- ``{"do": "pay", "contact": pk, "method": "CASH" | "CARD"}``, the row's cash or card button;
- ``{"do": "plan", "contact": pk, "balance": pk}``, the row's "charge their plan";
- ``{"do": "check_in", "contact": pk}``;

each with its form's ``key``, and ``"twice": true`` to post it again (a double tap, a retried
request). Every answer must be 200. Then (and for ``look``) the roster page as the desk sees
it: the header's warnings and how many rows say "waiting for Wix".
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from html import unescape
from typing import Any

WARNING = re.compile(r'<div class="sync-warning[^"]*" role="alert">(.*?)</div>', re.S)
WAITING_BADGE = '<span class="badge is-pending"'
DESK_USER = "desk"


def arrange(spec: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from bookings_app import roles, wix
    from tests.services.conftest import build_world

    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user(DESK_USER)
    user.groups.set([Group.objects.get(name=roles.FRONT_DESK)])
    world = build_world(capacity=120)
    members = set(spec["members"])
    people = [
        world.customer(f"P{i:03d}", credits=spec["credits"] if i in members else None) for i in range(spec["people"])
    ]
    world.mirror(*people)
    out = {
        "session": world.session().ref,
        "event": world.event["id"],
        "people": [
            {
                "contact": world.contact(p).pk,
                "wix_contact": p["contact"]["id"],
                "balance": world.balance(p).pk if "sold" in p else None,
                "pool": p["sold"]["pool"]["id"] if "sold" in p else None,
            }
            for p in people
        ],
    }
    world.wix.close()
    wix.get_sandbox().state.close()
    wix.clear_cached_state()
    return out


def _client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(headers={"HX-Request": "true"})
    client.force_login(User.objects.get(username=DESK_USER))
    return client


def _session(ref: str) -> Any:
    from bookings_app import selectors

    return selectors.session_get(ref=ref, numbers="none")


def _post(client: Any, session: Any, click: dict[str, Any]) -> int:
    from django.urls import reverse

    from bookings_app.models import Booking

    if click["do"] == "walk_in":
        url = reverse("desk_walk_in", args=[session.ref])
        data = {"contact": click["contact"], "pay": click["pay"]}
    else:
        booking = Booking.objects.get(session=session, contact_id=click["contact"])
        name, data = {
            "pay": ("desk_pay", {"method": click.get("method", "")}),
            "plan": ("desk_plan", {"balance": click.get("balance", "")}),
            "check_in": ("desk_attendance", {"status": "ATTENDED"}),
        }[click["do"]]
        url = reverse(name, args=[session.ref, booking.pk])
    return client.post(url, {**data, "idempotency_key": click["key"]}).status_code


def _look(client: Any, session: Any) -> dict[str, Any]:
    from django.urls import reverse

    started = time.perf_counter()
    response = client.get(reverse("roster", args=[session.ref]), headers={"HX-Request": ""})
    page = response.content.decode()
    return {
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000),
        "warnings": [" ".join(unescape(re.sub(r"<[^>]+>", " ", w)).split()) for w in WARNING.findall(page)],
        "waiting_rows": page.count(WAITING_BADGE),
    }


def act(spec: dict[str, Any]) -> dict[str, Any]:
    client, session = _client(), _session(spec["session"])
    answers = []
    for click in spec["clicks"]:
        for _ in range(2 if click.get("twice") else 1):
            answers.append(_post(client, session, click))
    return {"answers": answers, "page": _look(client, session)}


def look(spec: dict[str, Any]) -> dict[str, Any]:
    """The roster page; with ``until``, again every second until every one of those words is in
    its warnings (with ``clear``: until it has no warning and no row waits for Wix) — or
    ``timeout`` seconds have passed (the last look is returned either way)."""
    client, session = _client(), _session(spec["session"])
    ends = time.monotonic() + spec.get("timeout", 0)
    while True:
        page = _look(client, session)
        said = " ".join(page["warnings"])
        if spec.get("clear"):
            done = not page["warnings"] and not page["waiting_rows"]
        else:
            done = all(words in said for words in spec.get("until", []))
        if done or time.monotonic() >= ends:
            return page
        time.sleep(1)


if __name__ == "__main__":
    import django

    django.setup()
    command, spec = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps({"arrange": arrange, "act": act, "look": look}[command](spec)))
