"""The context of one mirror write: the Wix client, who is writing, what it cost and what it wrote.

A webhook, a desk search or the push makes a ``MirrorRun`` of its own; a sync run extends it
(``services.sync.state.SyncRun``) with its window, cursors and progress. The ``phase_*`` hooks are
where a step that a sync shares with a webhook (plan orders and credits) reports its progress:
they do nothing outside a sync.

Every read is a page of at most ``PAGE``, every lookup by id a batch of at most ``PAGE``, so the
number of Wix calls grows with pages, never with rows (no N+1 against Wix).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from bookings_app.services.mirror.values import Json
from bookings_app.wix import WixClient

PAGE = 100  # Wix's usual page maximum; also our batch size for lookups by id
URL_BATCH = 50  # ids that travel as repeated GET parameters (keeps URLs well under 8 KB)


@dataclass
class MirrorRun:
    wix: WixClient | None  # None: a write that makes no Wix call
    actor: str
    # A full sync writes every page as read; other runs first drop what the mirror holds at that version.
    full: bool = False
    calls: int = 0
    written: Counter[str] = field(default_factory=Counter)  # rows created or changed, per model
    seen_contacts: set[str] = field(default_factory=set)  # fetched in this run already
    touched_contacts: set[str] = field(default_factory=set)  # Wix contact ids of bookings written

    def call(self, fn: Callable[..., Json], **kwargs: Any) -> Json:
        assert self.wix is not None, "this mirror write makes no Wix calls"
        self.calls += 1
        return fn(self.wix, **kwargs)

    def phase_begin(self, kind: str, *, total: int | None = None) -> None:
        """A sync reports that it now reads ``kind`` (``total`` items, when known)."""

    def phase_progress(self, kind: str, done: int) -> None:
        """A sync reports ``done`` items of ``kind`` read."""

    def phase_end(self, kind: str) -> None:
        """A sync reports ``kind`` read to the end."""


def write(run: MirrorRun, fn: Callable[[], Any]) -> None:
    with transaction.atomic():
        fn()


# --- paging -----------------------------------------------------------------------------------


def paged_cursor(run: MirrorRun, fn: Callable[..., Json], key: str, flt: Json, **extra: Any) -> Iterator[list[Json]]:
    """Pages of a cursor-paged Wix query; the cursor carries the filter, so later pages send only it."""
    query: Json = {"cursorPaging": {"limit": PAGE}}
    if flt:
        query["filter"] = flt
    if "sort" in extra:
        query["sort"] = extra.pop("sort")
    first = True
    while True:
        answer = run.call(fn, query=query, **(extra if first else _cursor_extra(extra)))
        items = answer.get(key) or []
        yield items
        meta = answer.get("pagingMetadata") or answer.get("metadata") or {}
        cursor = (meta.get("cursors") or {}).get("next")
        if not cursor or not items:
            return
        query = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}
        first = False


def _cursor_extra(extra: Json) -> Json:
    # With a cursor Wix wants only the cursor (the window travels in it); flags stay.
    return {k: v for k, v in extra.items() if k.startswith("with_") or k == "fieldsets"}


def paged_offset(run: MirrorRun, fn: Callable[..., Json], key: str, flt: Json, **extra: Any) -> Iterator[list[Json]]:
    offset = 0
    while True:
        query: Json = {"paging": {"limit": PAGE, "offset": offset}}
        if flt:
            query["filter"] = flt
        answer = run.call(fn, query=query, **extra)
        items = answer.get(key) or []
        yield items
        meta = answer.get("pagingMetadata") or answer.get("metadata") or {}
        offset += len(items)
        total = meta.get("total")
        if not items or len(items) < PAGE or (isinstance(total, int) and offset >= total):
            return


def batches(ids: Iterable[str], size: int = PAGE) -> Iterator[list[str]]:
    unique = sorted({i for i in ids if i})
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
