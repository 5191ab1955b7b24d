"""The newer-wins bulk upsert every mirror writer goes through.

A page is written in one transaction; an older payload (by ``revision``, else ``updatedDate``; see
``models.is_newer``) never overwrites a newer one, so a poll racing a webhook, or a replayed page,
is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings_app.models import AuditEntry, WixMirror, is_newer, parse_revision
from bookings_app.services.audit import audit_entry
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.mirror.values import Json
from bookings_app.wix.dates import wix_timestamp_parse

M = TypeVar("M", bound=WixMirror)


@dataclass
class Row:
    wix_id: str
    revision: int | str | None
    updated_at: datetime | None
    values: Json


@dataclass
class Upserted:
    objects: dict[str, Any] = field(default_factory=dict)  # wix_id -> row as now stored (written or kept)
    created: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)  # a value changed (not only the version markers)
    written: set[str] = field(default_factory=set)  # created, or updated in any way
    before: dict[str, Json] = field(default_factory=dict)  # wix_id -> old values of changed rows


def upsert(
    run: MirrorRun,
    model: type[M],
    rows: Iterable[Row],
    *,
    keep: Callable[[M], bool] | None = None,
    existing: dict[str, M] | None = None,
) -> Upserted:
    """Write ``rows`` unless the mirror holds a version at least as new (``models.is_newer``).

    Call inside a transaction. ``keep(row)`` True leaves a held row untouched (a booking with a
    desk change in flight). ``existing`` adds held rows found another way (an attendance the desk
    created before Wix gave it an id). A payload newer by its markers but equal in every value
    changes nothing but the markers.
    """
    latest: dict[str, Row] = {}
    for row in rows:
        if row.wix_id:
            latest[row.wix_id] = row  # the last of duplicates in one page wins
    result = Upserted()
    if not latest:
        return result
    held: dict[str, M] = dict(existing or {})
    for obj in model.objects.select_for_update().filter(wix_id__in=list(latest)):
        held[obj.wix_id] = obj
    stamp = timezone.now()
    to_create: list[M] = []
    to_update: list[M] = []
    fields: set[str] = set()
    for wix_id, row in latest.items():
        rev = parse_revision(row.revision)
        current = held.get(wix_id)
        if current is None:
            obj = model(wix_id=wix_id, revision=rev, wix_updated_at=row.updated_at, synced_at=stamp, **row.values)
            to_create.append(obj)
            continue
        result.objects[wix_id] = current
        if keep is not None and keep(current):
            continue
        if current.wix_id and not is_newer(incoming_revision=rev, incoming_updated_at=row.updated_at, current=current):
            continue
        differs = {f for f, v in row.values.items() if getattr(current, f) != v}
        if not differs and current.wix_id and rev == current.revision and row.updated_at == current.wix_updated_at:
            continue
        if differs - {"raw"}:
            result.before[wix_id] = {f: getattr(current, f) for f in differs - {"raw"}}
            result.changed.add(wix_id)
        for f, v in row.values.items():
            setattr(current, f, v)
        current.wix_id = wix_id
        if rev is not None:
            current.revision = rev
        if row.updated_at is not None:
            current.wix_updated_at = row.updated_at
        current.synced_at = stamp
        fields |= set(row.values) | {"wix_id", "revision", "wix_updated_at", "synced_at"}
        to_update.append(current)
        result.written.add(wix_id)
    if to_create:
        try:
            with transaction.atomic():
                model.objects.bulk_create(to_create, batch_size=500)
        except IntegrityError:
            # Someone inserted one of them meanwhile: settle them one by one, newer-wins.
            for obj in to_create:
                row = latest[obj.wix_id]
                model.objects.upsert_from_wix(
                    obj.wix_id, revision=row.revision, updated_at=row.updated_at, defaults=row.values
                )
            to_create = [obj for obj in to_create if obj.pk is None]
        if any(obj.pk is None for obj in to_create):
            fresh = {o.wix_id: o for o in model.objects.filter(wix_id__in=[o.wix_id for o in to_create])}
            to_create = [fresh[o.wix_id] for o in to_create if o.wix_id in fresh]
        for obj in to_create:
            result.objects[obj.wix_id] = obj
            result.created.add(obj.wix_id)
            result.written.add(obj.wix_id)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=500)
    run.written[model.__name__] += len(result.written)
    return result


def unchanged_dropped(model: type[WixMirror], entities: list[Json]) -> list[Json]:
    """Entities (an overlapping poll brings some back) without those the mirror holds at that version."""
    held = {
        wix_id: (rev, updated)
        for wix_id, rev, updated in model.objects.filter(wix_id__in=[e["id"] for e in entities]).values_list(
            "wix_id", "revision", "wix_updated_at"
        )
    }
    fresh = []
    for entity in entities:
        version = held.get(entity["id"])
        if version is not None and version == (
            parse_revision(entity.get("revision")),
            wix_timestamp_parse(entity.get("updatedDate")),
        ):
            continue
        fresh.append(entity)
    return fresh


def changes_audit(run: MirrorRun, result: Upserted, obj_type: str, fields: tuple[str, ...]) -> None:
    """An audit entry for each row whose ``fields`` Wix changed (someone acted outside the desk)."""
    entries: list[AuditEntry] = []
    for wix_id in sorted(result.changed):
        before = {f: v for f, v in result.before[wix_id].items() if f in fields}
        if not before:
            continue
        obj = result.objects[wix_id]
        after = {f: getattr(obj, f) for f in before}
        change = "; ".join(f"{f.replace('_', ' ')} {before[f]} → {after[f]}" for f in before)
        entries.append(
            audit_entry(
                user=run.actor,
                action=f"{obj_type}.changed_in_wix",
                obj_type=obj_type,
                obj_id=wix_id,
                summary=f"Wix changed {obj_type} {wix_id[:8]}: {change}",
                before=before,
                after=after,
            )
        )
    if entries:
        AuditEntry.objects.bulk_create(entries)
