"""The mirror's base: a Wix entity's id, version markers and last payload, and the newer-wins
upsert that never lets an older update overwrite a newer one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

M = TypeVar("M", bound="WixMirror")

MONEY = {"max_digits": 10, "decimal_places": 2}


class UpsertResult(NamedTuple, Generic[M]):
    instance: M
    created: bool
    written: bool  # False: the incoming data was not newer than what we hold, nothing changed


def parse_revision(value: int | str | None) -> int | None:
    """Wix sends revisions as int64 strings ("12"); some APIs send ints. Blank → None."""
    if value is None or value == "":
        return None
    return int(value)


def is_newer(*, incoming_revision: int | None, incoming_updated_at: datetime | None, current: WixMirror) -> bool:
    """Whether an incoming Wix payload may replace ``current``.

    Revisions decide when both sides have one; otherwise ``updatedDate``. Equal is not newer
    (a replayed webhook or an overlapping poll changes nothing). When the row holds a version
    marker the payload lacks, we cannot prove the payload is newer, so it loses; when neither
    side carries any marker (an entity type without them) the payload wins.
    """
    if incoming_revision is not None and current.revision is not None:
        return incoming_revision > current.revision
    if incoming_updated_at is not None and current.wix_updated_at is not None:
        return incoming_updated_at > current.wix_updated_at
    return current.revision is None and current.wix_updated_at is None


class WixMirrorQuerySet(models.QuerySet[M]):
    def upsert_from_wix(
        self,
        wix_id: str,
        *,
        revision: int | str | None = None,
        updated_at: datetime | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> UpsertResult[M]:
        """Create or update the row for ``wix_id`` unless we already hold a newer version.

        ``defaults`` are field values (``raw`` included, if wanted). Runs in a transaction with
        the row locked (``select_for_update``; SQLite serialises writers instead), so two
        concurrent syncs or a webhook racing a poll cannot interleave.
        """
        if not wix_id:
            raise ValueError("upsert_from_wix needs a Wix id")
        rev = parse_revision(revision)
        values = dict(defaults or {})
        for attempt in (1, 2):
            with transaction.atomic(using=self.db):
                current = self.select_for_update().filter(wix_id=wix_id).first()
                if current is None:
                    obj = self.model(wix_id=wix_id, revision=rev, wix_updated_at=updated_at, **values)
                    obj.synced_at = timezone.now()
                    try:
                        with transaction.atomic(using=self.db):
                            obj.save(force_insert=True, using=self.db)
                    except IntegrityError:
                        if attempt == 2:
                            raise
                        continue  # someone inserted it meanwhile: compare against theirs
                    return UpsertResult(obj, True, True)
                if not is_newer(incoming_revision=rev, incoming_updated_at=updated_at, current=current):
                    return UpsertResult(current, False, False)
                for field, value in values.items():
                    setattr(current, field, value)
                if rev is not None:
                    current.revision = rev
                if updated_at is not None:
                    current.wix_updated_at = updated_at
                current.synced_at = timezone.now()
                current.save(using=self.db)
                return UpsertResult(current, False, True)
        raise AssertionError("unreachable")  # pragma: no cover


class WixMirror(models.Model):
    wix_id = models.CharField("Wix id", max_length=250, unique=True, null=True, blank=True)
    revision = models.BigIntegerField(null=True, blank=True)
    wix_updated_at = models.DateTimeField("updated in Wix", null=True, blank=True)
    raw = models.JSONField("last Wix payload", default=dict, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = WixMirrorQuerySet.as_manager()

    class Meta:
        abstract = True
