"""The audit trail: who did what to which object, with the state before and after (DESIGN.md §7)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from bookings_app.models import AuditEntry

SUMMARY_MAX = 500


def audit_record(
    *,
    user: AbstractBaseUser | AnonymousUser | str | None,
    action: str,
    obj_type: str,
    obj_id: str | int | None,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry. ``user`` is the staff member, or a string naming the machine
    actor (``"sync"``, ``"webhook"``, ``"worker"``) when no person did it."""
    entry = audit_entry(
        user=user, action=action, obj_type=obj_type, obj_id=obj_id, summary=summary, before=before, after=after
    )
    entry.save(force_insert=True)
    return entry


def audit_entry(
    *,
    user: AbstractBaseUser | AnonymousUser | str | None,
    action: str,
    obj_type: str,
    obj_id: str | int | None,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """An unsaved entry, for ``AuditEntry.objects.bulk_create`` when a batch changes many rows."""
    if isinstance(user, str) or user is None:
        actor, person = user or "system", None
    elif not user.is_authenticated:
        actor, person = "anonymous", None
    else:
        actor, person = user.get_username(), user
    return AuditEntry(
        user=person,
        actor=actor[:150],
        action=action,
        object_type=obj_type,
        object_id="" if obj_id is None else str(obj_id),
        summary=summary[:SUMMARY_MAX],
        before=before,
        after=after,
    )
