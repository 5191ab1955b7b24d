"""The payment report's numbers (:data:`METRICS`): what each counts or sums of the facts rows
(``selectors.reports_facts``), and how a group of rows adds to them (:func:`metrics_add`) — shared
by the report (``selectors.reports``), the figures it keeps per session
(``selectors.reports_cache``) and the drill-down (``selectors.reports_rows``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bookings_app.models import Attendance, Booking, Payment
from bookings_app.selectors import reports_facts as facts
from bookings_app.selectors.reports_facts import lit

# What a group of rows holds after its count: the sums the metrics measure (money in cents).
MEASURES = ("people", "due", "collected", *(f"c_{m.lower()}" for m in facts.METHODS))


@dataclass(frozen=True)
class Metric:
    """One figure: the rows it stands for — those whose ``status``, ``way`` and ``att`` are among
    the ones given (any, when none are) — and what it adds up of them: ``measure`` ("" counts
    them; ``people`` or a money column sums it). A money figure's rows are those with some of
    it (``f.<measure> <> 0``): the rows behind "£120 collected by cash" are those that paid cash.

    The report adds up every metric from rows grouped by those three words (:func:`matches`);
    the drill-down lists the rows of one with the same conditions in SQL (:attr:`condition`)."""

    name: str
    label: str
    status: tuple[str, ...] = ()
    way: tuple[str, ...] = ()
    att: tuple[str, ...] = ()
    measure: str = ""
    hint: str = ""

    @property
    def is_money(self) -> bool:
        return self.measure not in ("", "people")

    @property
    def measure_sql(self) -> str:
        return f"f.{self.measure}" if self.measure else "1"

    @property
    def condition(self) -> str:
        """The metric's rows as SQL over a facts row ``f`` (only our own constants)."""
        parts = [f"f.{name} IN ({lit(*values)})" for name, values in self._words() if values]
        if self.is_money:
            parts.append(f"f.{self.measure} <> 0")
        return " AND ".join(parts) or "1 = 1"

    def matches(self, status: str, way: str, att: str) -> bool:
        words = zip(self._words(), (status, way, att), strict=True)
        return all(not values or value in values for (_, values), value in words)

    def _words(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return (("status", self.status), ("way", self.way), ("att", self.att))


A = Attendance.Status
METHOD_LABELS = dict(Payment.Method.choices)
_NO_SHOW_UNPAID = {"att": (A.NOT_ATTENDED,), "way": (facts.UNPAID, facts.PART)}

METRICS: tuple[Metric, ...] = (
    Metric("booked", "Booked", hint="Every booking of the sessions, whatever its status"),
    Metric("people", "People", measure="people", hint="The participants of those bookings"),
    Metric("confirmed", "Confirmed", status=(Booking.Status.CONFIRMED,)),
    Metric("not_yet", "Not yet confirmed", status=facts.NOT_YET, hint="Pending, created, waiting list"),
    Metric("cancelled", "Cancelled", status=facts.CANCELLED, hint="Cancelled or declined"),
    *(
        Metric(
            f"paid_{m.lower()}", METHOD_LABELS[m], way=(m,), hint=f"Paid in full, most by {METHOD_LABELS[m].lower()}"
        )
        for m in (facts.CASH, facts.CARD, facts.CHECK, facts.ONLINE, facts.OTHER)
    ),
    Metric("paid_plan", "Plan", way=(facts.PLAN,), hint="Charged to a pricing plan (class pass, membership)"),
    Metric("part", "Part paid", way=(facts.PART,)),
    Metric("unpaid", "Unpaid", way=(facts.UNPAID,), hint="Holding a place with nothing paid"),
    Metric(
        "written_off",
        "Written off",
        way=(facts.WRITTEN_OFF,),
        hint="Not paid, and a manager wrote off what it owes: not to be collected, not counted unpaid",
    ),
    Metric("refunded", "Refunded", way=(facts.REFUNDED,)),
    Metric("free", "Free", way=(facts.FREE,)),
    Metric("nothing_due", "Nothing due", way=(facts.NOTHING,), hint="Cancelled, declined or waiting, nothing paid"),
    Metric("attended", "Attended", att=(A.ATTENDED,)),
    Metric("no_show", "No-show", att=(A.NOT_ATTENDED,)),
    Metric(
        "unmarked",
        "Not marked",
        status=Booking.ACTIVE_STATUSES,
        att=(A.NOT_SET,),
        hint="Holding a place, attendance not marked",
    ),
    Metric("due", "Due", measure="due", hint="Still to collect from bookings holding a place"),
    Metric("collected", "Collected", measure="collected", hint="Money in, every way"),
    *(Metric(f"collected_{m.lower()}", METHOD_LABELS[m], measure=f"c_{m.lower()}") for m in facts.METHODS),
    Metric("no_show_unpaid", "No-shows who did not pay", **_NO_SHOW_UNPAID, hint="No-show, unpaid or part paid"),
    Metric("no_show_unpaid_due", "Owed by no-shows", **_NO_SHOW_UNPAID, measure="due"),
)
METRIC_BY_NAME = {m.name: m for m in METRICS}
WAY_LABELS = {
    **{way: f"Paid · {METHOD_LABELS[way].lower()}" for way in facts.METHODS if way != facts.PLAN},
    facts.PLAN: "Plan",
    facts.PART: "Part paid",
    facts.UNPAID: "Unpaid",
    facts.WRITTEN_OFF: "Written off",
    facts.REFUNDED: "Refunded",
    facts.FREE: "Free",
    facts.NOTHING: "Nothing due",
}


@functools.cache
def metrics_of(words: tuple[str, str, str]) -> tuple[tuple[str, int], ...]:
    """What a group of rows with these (status, way, att) adds to: (metric name, the index of
    its measure among the group's values — 0 is the count, then :data:`MEASURES`)."""
    return tuple((m.name, MEASURES.index(m.measure) + 1 if m.measure else 0) for m in METRICS if m.matches(*words))


def metrics_add(sums: dict[str, Any], words: tuple[str, str, str], values: list[Any]) -> None:
    """Add a group of rows (its count, then its sums of :data:`MEASURES`, as the database gave
    them) to the metrics' running sums; :func:`reports._figures` makes numbers of them once, at the end."""
    for name, index in metrics_of(words):
        sums[name] = sums.get(name, 0) + (values[index] or 0)
