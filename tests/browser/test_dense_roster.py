"""The dense roster in headless Chromium (issue 10, item 11): one line per person at desk and
tablet widths with 44px targets, the row's "⋯" menu, jump to a letter, sort, the keyboard (type
to find, arrows, Enter to check in, "c" for cash), the skip link and visible focus. Screens are
saved under test-artifacts/ (front-desk-dense-*.png)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import Attendance, Booking, DeskAction, Session
from tests import factories
from tests.browser.conftest import needs_chromium, screenshot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]

# Thirty people, their surnames under 24 letters (none under Q or X).
NAMES = [
    ("Amy", "Abbot"),
    ("Ann", "Archer"),
    ("Bo", "Baker"),
    ("Ben", "Bell"),
    ("Cy", "Cole"),
    ("Cal", "Cross"),
    ("Di", "Dunn"),
    ("Dot", "Dale"),
    ("Ed", "Eve"),
    ("Flo", "Fox"),
    ("Gus", "Gray"),
    ("Hal", "Hill"),
    ("Ivy", "Ince"),
    ("Jo", "Jones"),
    ("Kai", "King"),
    ("Lu", "Lane"),
    ("Mo", "Moss"),
    ("Ned", "Nash"),
    ("Oli", "Owen"),
    ("Pam", "Page"),
    ("Ros", "Reed"),
    ("Sam", "Shaw"),
    ("Tia", "Tate"),
    ("Uma", "Upton"),
    ("Vic", "Vale"),
    ("Wes", "West"),
    ("Yan", "Young"),
    ("Zoe", "Zane"),
    ("Maximiliana", "Featherstonehaugh-Smythe"),
    ("Ana", "de Vries"),
]
WIDTHS = [(1366, 768, 12), (1024, 768, 12), (768, 1024, 10)]  # width, height, people seen at least


@pytest.fixture
def big_class() -> dict[str, object]:
    """A class in an hour with thirty people: every third paid (the others owe £12, nothing paid
    yet), every fourth checked in; Bo has a 10-swim pass."""
    session = factories.SessionFactory(
        start=timezone.now() + timedelta(hours=1), title="Lake swim", capacity=40, service__price=Decimal("12.00")
    )
    people: dict[str, Booking] = {}
    for i, (first, last) in enumerate(NAMES):
        contact = factories.ContactFactory(
            first_name=first, last_name=last, phone=f"+44 7700 900{i:03d}", email=f"{first.lower()}@example.com"
        )
        people[first] = booking = factories.BookingFactory(
            session=session, contact=contact, payment_status="PAID" if i % 3 == 0 else "UNDEFINED"
        )
        if i % 4 == 0:
            factories.AttendanceFactory(booking=booking, session=session, status=Attendance.Status.ATTENDED)
    member = factories.MemberFactory(contact=people["Bo"].contact)
    factories.BenefitBalanceFactory(
        member=member, remaining_credits=Decimal("5"), covered_service_ids=[session.service.wix_id], name="10-swim pass"
    )
    return {"session": session, "people": people}


def _open(page, desk_password: str, session: Session) -> None:
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")


def _expected_order(rank) -> list[str]:
    """The fixture's names ordered by ``rank(i)`` of each (its index in NAMES), then by surname."""
    from bookings_app.models import normalise_text

    order = sorted(range(len(NAMES)), key=lambda i: (rank(i), normalise_text(NAMES[i][1]), normalise_text(NAMES[i][0])))
    return [" ".join(NAMES[i]) for i in order]


def _people_in_view(page) -> int:
    """Rows wholly on screen and not under the sticky letters and column heads."""
    return page.evaluate(
        """() => {
          const heads = document.querySelector('#roster-rows .roster thead th').getBoundingClientRect();
          return Array.from(document.querySelectorAll('#roster-rows tbody.booking > tr.info')).filter((line) => {
            const box = line.getBoundingClientRect();
            return box.top >= heads.bottom - 1 && box.bottom <= window.innerHeight + 0.5;
          }).length;
        }"""
    )


def _small_targets(page) -> list[str]:
    """Visible controls on screen less than 44px tall (a checkbox's target is its label)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
              'a, button, summary, select, input:not([type=hidden]):not([type=checkbox]), label.check'))
          .filter((el) => {
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight
              && !el.closest('.sandbox-banner, .keys-help, .menu') && box.height < 43.5;
          })
          .map((el) => `${el.tagName} "${(el.textContent || el.value || '').trim().slice(0, 30)}" `
            + `${el.getBoundingClientRect().height}px`)"""
    )


def _cut_cells(page) -> list[str]:
    """Cells whose content spills past their edge (the name alone may end in an ellipsis)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#roster-rows tr.info > td:not(.who)'))
          .filter((td) => td.scrollWidth > td.clientWidth + 1)
          .map((td) => `${td.closest('tbody').id} ${td.className}: ${td.textContent.trim().slice(0, 40)}`)"""
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height", "at_least"), WIDTHS)
def test_the_roster_is_one_line_per_person_with_44px_targets(tablet, desk_password, big_class, width, height, at_least):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": width, "height": height})
    _open(page, desk_password, big_class["session"])
    lines = page.locator("#roster-rows tbody.booking > tr.info")
    expect(lines).to_have_count(30)
    assert screenshot(page, f"dense-{width}x{height}-top").exists()

    # The skip link is the first thing Tab reaches, and shows when it does; it leads to the roster.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to roster")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    expect(page.locator("#roster-rows")).to_be_focused()

    seen = _people_in_view(page)
    assert seen >= at_least, f"{seen} people on screen at {width}×{height}"
    heights = lines.evaluate_all("(lines) => lines.map((line) => line.getBoundingClientRect().height)")
    assert max(heights) <= 52 and min(heights) >= 44, heights  # one line each, a finger's height
    assert page.locator("#roster-rows tr.extra").count() == 0
    assert _small_targets(page) == []
    assert _cut_cells(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing spills sideways
    # The long name stops at its cell's edge, with the whole name (and phone, email) in its title.
    long_name = page.locator("#roster-rows .name", has_text="Maximiliana")
    expect(long_name.locator("xpath=..")).to_have_attribute(
        "title", "Maximiliana Featherstonehaugh-Smythe · +44 7700 900028 · maximiliana@example.com"
    )
    assert screenshot(page, f"dense-{width}x{height}").exists()

    # Scrolled on, the letters and the column heads stay on top of the rows.
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(150)
    letters = page.locator("#roster-rows .letters").bounding_box()
    assert -1 <= letters["y"] <= 1
    assert _people_in_view(page) >= at_least
    assert screenshot(page, f"dense-{width}x{height}-scrolled").exists()


@pytest.mark.django_db(transaction=True)
def test_the_more_menu_holds_part_payment_pay_later_and_no_show_for_one_person_then_the_next(
    tablet, desk_password, big_class
):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": 1024, "height": 768})
    people = big_class["people"]
    _open(page, desk_password, big_class["session"])

    for first, method, amount, left in (("Cy", "Cash", "5", "£7.00"), ("Dot", "Card", "3.50", "£8.50")):
        booking = people[first]
        name = booking.contact.full_name
        row = page.locator(f"#roster-row-{booking.pk}")
        menu = row.get_by_label(f"More actions for {name}")
        menu.click()
        expect(row.locator("details.more")).to_have_attribute("open", "")
        assert screenshot(page, f"dense-menu-{first}").exists()
        row.get_by_role("link", name=f"Part payment from {name}").click()  # fetches the row with its prompt
        amount_box = row.get_by_label(f"Part payment from {name}: amount")
        expect(amount_box).to_be_focused()
        amount_box.fill(amount)
        row.get_by_role("button", name=f"{method} part payment from {name}").click()
        expect(row.locator("tr.info .due")).to_have_text(left)
        expect(row.get_by_role("button", name=f"Undo payment for {name}")).to_be_visible()
        expect(row.locator("tr.extra")).to_have_count(0)  # back to one line

    # Pay later and No-show are in the menu too, and act on that row only.
    hal = people["Hal"]
    hal_row = page.locator(f"#roster-row-{hal.pk}")
    hal_row.get_by_label(f"More actions for {hal.contact.full_name}").click()
    hal_row.get_by_role("button", name=f"Pay later for {hal.contact.full_name}").click()
    expect(hal_row.get_by_role("button", name=f"Undo pay later for {hal.contact.full_name}")).to_be_visible()
    gus = people["Gus"]
    gus_row = page.locator(f"#roster-row-{gus.pk}")
    gus_row.get_by_label(f"More actions for {gus.contact.full_name}").click()
    gus_row.get_by_role("button", name=f"No-show for {gus.contact.full_name}").click()
    expect(gus_row.locator("td.att")).to_contain_text("No-show")  # the badge, not the menu's button
    # …and a tap elsewhere closes an open menu.
    hal_row.get_by_label(f"More actions for {hal.contact.full_name}").click()
    page.locator("#roster-count").click()
    expect(page.locator("#roster-rows details.more[open]")).to_have_count(0)
    kinds = list(DeskAction.objects.filter(booking__in=[hal, gus]).values_list("kind", flat=True))
    assert sorted(kinds) == ["ATTENDANCE", "PAY_LATER"]


@pytest.mark.django_db(transaction=True)
def test_type_to_find_then_enter_checks_in_and_c_takes_cash_for_one_person_then_the_next(
    tablet, desk_password, big_class
):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": 1366, "height": 768})
    people = big_class["people"]
    _open(page, desk_password, big_class["session"])
    search = page.locator("#roster-q")
    lines = page.locator("#roster-rows tbody.booking > tr.info")

    for first, typed, start in (("Kai", "kin", None), ("Ned", "nas", "/")):
        booking = people[first]
        if start:
            page.keyboard.press(start)  # "/" selects what the box holds: the next name replaces it
        else:
            expect(page.locator("body")).to_be_focused()
        page.keyboard.type(typed, delay=40)  # typed with nothing focused: the filter box takes it
        expect(search).to_have_value(typed)
        line = page.locator(f"#booking-{booking.pk}")
        expect(line).to_be_visible()
        expect(lines).to_have_count(1)
        page.keyboard.press("ArrowDown")
        expect(line).to_be_focused()
        page.keyboard.press("Enter")
        expect(line).to_contain_text("Checked in")
        expect(line).to_be_focused()  # still that person's row: the keys go on working on it
        page.keyboard.press("c")
        expect(line).to_contain_text("Paid")
        expect(line.locator(".due")).to_have_count(0)
        assert screenshot(page, f"dense-keys-{first}").exists()

    actions = DeskAction.objects.order_by("created_at", "pk")
    assert [(a.booking_id, a.kind) for a in actions] == [
        (people["Kai"].pk, "ATTENDANCE"),
        (people["Kai"].pk, "PAYMENT"),
        (people["Ned"].pk, "ATTENDANCE"),
        (people["Ned"].pk, "PAYMENT"),
    ]
    assert {a.params["amount"] for a in actions if a.kind == "PAYMENT"} == {"12.00"}


@pytest.mark.django_db(transaction=True)
def test_arrows_move_the_highlight_and_act_on_the_row_they_reached(tablet, desk_password, big_class):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": 768, "height": 1024})
    people = big_class["people"]
    _open(page, desk_password, big_class["session"])
    # By surname: Abbot (paid, in), Archer, Baker, Bell (paid), Cole…
    archer, baker = people["Ann"], people["Bo"]

    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#booking-{people['Amy'].pk}")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#booking-{archer.pk}")).to_be_focused()
    outline = page.locator(f"#booking-{archer.pk}").evaluate("(el) => getComputedStyle(el).outlineWidth")
    assert outline == "3px"
    page.keyboard.press("Enter")
    expect(page.locator(f"#booking-{archer.pk}")).to_contain_text("Checked in")
    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#booking-{baker.pk}")).to_be_focused()
    page.keyboard.press("c")
    expect(page.locator(f"#booking-{baker.pk}")).to_contain_text("Paid")
    page.keyboard.press("Enter")
    expect(page.locator(f"#booking-{baker.pk}")).to_contain_text("Checked in")

    assert Attendance.objects.get(booking=archer).status == "ATTENDED"
    assert Attendance.objects.get(booking=baker).status == "ATTENDED"
    assert not Attendance.objects.filter(booking=people["Amy"]).exclude(status="ATTENDED").exists()
    assert DeskAction.objects.get(kind="PAYMENT").booking_id == baker.pk
    # ↑ from the first row goes back to the filter box; "?" shows the keys.
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    expect(page.locator("#roster-q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("?")
    expect(page.locator(".keys-help")).to_be_visible()
    expect(page.locator(".keys-help")).to_contain_text("check in the highlighted person")


@pytest.mark.django_db(transaction=True)
def test_a_mouse_tap_leaves_no_row_for_the_keys_to_act_on(tablet, desk_password, big_class):
    from playwright.sync_api import expect

    page = tablet
    people = big_class["people"]
    _open(page, desk_password, big_class["session"])
    cole = people["Cal"]

    page.locator(f"#roster-row-{cole.pk}").get_by_role("button", name=f"Check in {cole.contact.full_name}").click()
    expect(page.locator(f"#booking-{cole.pk}")).to_contain_text("Checked in")
    page.keyboard.type("c")  # finds people; takes nobody's cash

    expect(page.locator("#roster-q")).to_have_value("c")
    expect(page.locator("#roster-count")).to_contain_text("matching “c”")
    assert not DeskAction.objects.filter(kind="PAYMENT").exists()


@pytest.mark.django_db(transaction=True)
def test_jump_to_a_letter_and_sort_keep_their_place(tablet, desk_password, big_class):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": 1366, "height": 768})
    people = big_class["people"]
    session = big_class["session"]
    _open(page, desk_password, session)

    # Letters without anyone under them are shown but cannot be followed.
    letters = page.locator("#roster-rows .letters")
    expect(letters.get_by_role("link")).to_have_count(24)
    expect(letters.locator("span", has_text="Q")).to_have_count(1)
    letters.get_by_role("link", name="Surnames under G").click()  # to the top, under the heads
    gray = page.locator(f"#booking-{people['Gus'].pk}").bounding_box()
    heads = page.locator("#roster-rows .roster thead th").first.bounding_box()
    assert heads["y"] + heads["height"] - 1 <= gray["y"] <= heads["y"] + heads["height"] + 8
    letters.get_by_role("link", name="Surnames under W").click()  # near the end: into view
    west = page.locator(f"#booking-{people['Wes'].pk}").bounding_box()
    assert heads["y"] + heads["height"] - 1 <= west["y"] and west["y"] + west["height"] <= 768
    # "de Vries" is found under D.
    letters.get_by_role("link", name="Surnames under D").click()
    first_d = page.locator("#roster-rows tbody.booking[data-letter=D]").first
    expect(first_d).to_contain_text("Dale")  # "Dale" < "de Vries" < "Dunn"

    # To do first: who owes and is not in yet, who owes and is in, who is paid and not in, who is
    # done; the order holds after a reload, and the control says which it is.
    page.locator("#roster-sort").select_option("status")
    expect(page).to_have_url(f"{page.url.split('?')[0]}?q=&sort=status")
    names = page.locator("#roster-rows tr.info .name")
    to_do = _expected_order(lambda i: (i % 3 == 0) * 2 + (i % 4 == 0))
    expect(names).to_have_text(to_do)
    assert to_do[0] == "Ann Archer" and to_do[-1] == "Vic Vale"
    page.reload()
    expect(page.locator("#roster-sort")).to_have_value("status")
    expect(names).to_have_text(to_do)
    assert screenshot(page, "dense-sorted-to-do").exists()

    # Arrival: who is checked in first, in the order they came; then everyone else as they booked.
    page.locator("#roster-sort").select_option("arrival")
    came = [" ".join(NAMES[i]) for i in range(0, 30, 4)]
    expect(names).to_have_text(came + [" ".join(NAMES[i]) for i in range(30) if i % 4])


@pytest.mark.django_db(transaction=True)
def test_walk_ins_join_the_dense_roster_and_their_letters_become_ones_to_jump_to(tablet, desk_password, big_class):
    from playwright.sync_api import expect

    page = tablet
    page.set_viewport_size({"width": 1024, "height": 768})
    _open(page, desk_password, big_class["session"])
    letters = page.locator("#roster-rows .letters")

    for first, last in (("Quin", "Quay"), ("Xia", "Xu")):
        expect(letters.get_by_role("link", name=f"Surnames under {last[0]}")).to_have_count(0)
        page.get_by_text("+ Add walk-in").click()
        page.locator("#walk-in-panel summary", has_text="+ New customer").click()
        page.get_by_label("First name").fill(first)
        page.get_by_label("Last name").fill(last)
        page.get_by_label("Email").fill(f"{first.lower()}@example.com")
        page.locator("#walk-in-new").get_by_role("button", name="Pay later").click()
        line = page.locator("#roster-rows tr.info", has_text=f"{first} {last}")
        expect(line).to_be_visible()
        assert 44 <= line.bounding_box()["height"] <= 52  # one line, like everyone else's
        letters.get_by_role("link", name=f"Surnames under {last[0]}").click()
        expect(line).to_be_in_viewport()
    assert Booking.objects.filter(session=big_class["session"]).count() == 32
    assert screenshot(page, "dense-walk-ins").exists()


def _luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, two: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.django_db(transaction=True)
def test_every_control_tab_reaches_shows_a_3px_focus_ring_at_3_to_1(tablet, desk_password, big_class):
    page = tablet
    page.set_viewport_size({"width": 1366, "height": 768})
    _open(page, desk_password, big_class["session"])
    seen: set[str] = set()
    seen_names: list[str] = []
    for _ in range(60):  # the skip link, the header, the tools, the letters, the first rows' controls
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              let back = null;
              for (let node = el.parentElement; node && !back; node = node.parentElement) {
                const colour = getComputedStyle(node).backgroundColor;
                if (colour !== 'rgba(0, 0, 0, 0)') back = colour;
              }
              const name = (el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30);
              return { what: `${el.tagName}.${el.className} ${name}`,
                       style: style.outlineStyle, width: style.outlineWidth, colour: style.outlineColor,
                       back: back || 'rgb(255, 255, 255)' };
            }"""
        )
        seen.add(ring["what"].split(".")[0])
        seen_names.append(ring["what"])
        assert ring["style"] == "solid" and ring["width"] == "3px", ring
        assert _contrast(ring["colour"], ring["back"]) >= 3, ring
        assert _contrast(ring["colour"], "rgb(255, 255, 255)") >= 3, ring  # on a white card as well
    assert {"A", "BUTTON", "SELECT", "INPUT", "SUMMARY"} <= seen
    assert any("Check in " in what for what in seen_names) and any("More actions for" in what for what in seen_names)
