"""Wix's query language, as far as the app uses it: filters, sort, offset and cursor paging.

Filters follow Wix API Query Language: ``{"field": value}`` (equality), operators ``$eq $ne
$gt $gte $lt $lte $in $nin $exists $startsWith $hasSome $hasAll $isEmpty``, and ``$and $or
$not``. Field names are dotted paths into the entity (``"bookedEntity.slot.eventId"``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import invalid

_MISSING = object()


def get_path(entity: Any, path: str) -> Any:
    current = entity
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def _cmp_value(value: Any) -> Any:
    # Dates in Wix JSON are ISO strings; numbers may be strings (money); compare like Wix would.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _match_op(actual: Any, op: str, expected: Any) -> bool:
    present = actual is not _MISSING and actual is not None
    if op == "$eq":
        return present and actual == expected
    if op == "$ne":
        return not present or actual != expected
    if op == "$in":
        if isinstance(actual, list):
            return any(a in expected for a in actual)
        return present and actual in expected
    if op == "$nin":
        return not present or actual not in expected
    if op == "$exists":
        return present == bool(expected)
    if op == "$isEmpty":
        empty = not present or actual in ("", [], {})
        return empty == bool(expected)
    if op == "$startsWith":
        return present and isinstance(actual, str) and actual.lower().startswith(str(expected).lower())
    if op == "$hasSome":
        return present and isinstance(actual, list) and any(x in actual for x in expected)
    if op == "$hasAll":
        return present and isinstance(actual, list) and all(x in actual for x in expected)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not present:
            return False
        a, e = _cmp_value(actual), _cmp_value(expected)
        try:
            return {
                "$gt": a > e,
                "$gte": a >= e,
                "$lt": a < e,
                "$lte": a <= e,
            }[op]
        except TypeError:
            return False
    raise invalid("UNSUPPORTED_FILTER_OPERATOR", f"Unsupported filter operator {op}")


def match_filter(entity: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(match_filter(entity, f) for f in cond):
                return False
        elif key == "$or":
            if not any(match_filter(entity, f) for f in cond):
                return False
        elif key == "$not":
            if match_filter(entity, cond):
                return False
        else:
            actual = get_path(entity, key)
            if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
                if not all(_match_op(actual, op, exp) for op, exp in cond.items()):
                    return False
            elif isinstance(actual, list) and not isinstance(cond, list):
                if cond not in actual:
                    return False
            elif actual is _MISSING or actual != cond:
                return False
    return True


def filter_fields(flt: dict[str, Any] | None) -> set[str]:
    """Every field name a filter names, through ``$and``/``$or``/``$not``."""
    return {field for field, _ in filter_terms(flt)}


def filter_terms(flt: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Every ``(field, operator)`` a filter uses, through ``$and``/``$or``/``$not``; a bare value
    is ``$eq``. A field with two operators in one condition (``{"$gte": a, "$lt": b}``) is two terms."""
    terms: list[tuple[str, str]] = []
    for key, cond in (flt or {}).items():
        if key in ("$and", "$or"):
            for part in cond or []:
                terms += filter_terms(part)
        elif key == "$not":
            terms += filter_terms(cond)
        elif isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            terms += [(key, op) for op in cond]
        else:
            terms.append((key, "$eq"))
    return terms


def _conditions(flt: dict[str, Any] | None) -> list[str]:
    """The field of each condition a filter holds (a field twice: named in two conditions)."""
    fields: list[str] = []
    for key, cond in (flt or {}).items():
        if key in ("$and", "$or"):
            for part in cond or []:
                fields += _conditions(part)
        elif key == "$not":
            fields += _conditions(cond)
        else:
            fields.append(key)
    return fields


# The fields a query may filter on, as the SDK lists them: names only, or each with its operators.
Filterable = Iterable[str] | Mapping[str, Iterable[str]]


def require_filterable(flt: dict[str, Any] | None, allowed: Filterable, api: str, *, once: bool = False) -> None:
    """Refuse a filter on a field the SDK's query spec does not list as filterable.

    Wix documents the filterable fields of each query (``@filterable`` / the query builder's
    field list in the SDK typings). UNCONFIRMED: whether Wix answers an unlisted field with a 400
    or ignores it; the sandbox takes the stricter reading and answers 400, so the app is held to
    the documented list. ``allowed`` as a mapping also names each field's operators (a bare value
    counts as ``$eq``): another operator is ``400 UNSUPPORTED_FILTER_OPERATOR``. ``once``: the
    query documents "a filter only once per query" (Wix then uses only the first); a field named
    in two conditions is refused (UNCONFIRMED, the stricter reading) rather than half-applied.
    """
    allowed_set = set(allowed)
    unknown = sorted(f for f in filter_fields(flt) if f not in allowed_set)
    if unknown:
        raise invalid(
            "UNSUPPORTED_FILTER_FIELD",
            f"{api}: {', '.join(unknown)} cannot be filtered on (filterable: {', '.join(sorted(allowed_set))})",
            {"fields": unknown},
        )
    if isinstance(allowed, Mapping):
        wrong = sorted({f"{field} {op}" for field, op in filter_terms(flt) if op not in set(allowed[field])})
        if wrong:
            raise invalid(
                "UNSUPPORTED_FILTER_OPERATOR", f"{api}: {', '.join(wrong)} is not supported", {"terms": wrong}
            )
    if once:
        twice = sorted({f for f in _conditions(flt) if _conditions(flt).count(f) > 1})
        if twice:
            raise invalid(
                "UNSUPPORTED_FILTER",
                f"{api}: a field may be filtered only once per query ({', '.join(twice)} named twice)",
                {"fields": twice},
            )


def require_sortable(sort: Iterable[dict[str, Any]] | None, allowed: Iterable[str], api: str) -> None:
    """Refuse a sort on a field the SDK does not list as sortable (UNCONFIRMED: 400 or ignored;
    the sandbox takes the stricter reading)."""
    allowed_set = set(allowed)
    unknown = sorted({str(s.get("fieldName")) for s in sort or [] if s.get("fieldName") not in allowed_set})
    if unknown:
        raise invalid("UNSUPPORTED_SORT_FIELD", f"{api}: {', '.join(unknown)} cannot be sorted on", {"fields": unknown})


def sort_items(items: list[dict[str, Any]], sort: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    for spec in reversed(list(sort or [])):
        field = spec.get("fieldName")
        if not field:
            continue
        desc = str(spec.get("order", "ASC")).upper() == "DESC"
        items = sorted(
            items,
            key=lambda e: (get_path(e, field) is _MISSING, _sortable(get_path(e, field))),
            reverse=desc,
        )
    return items


def _sortable(value: Any) -> Any:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:020.6f}"
    return str(value)


def encode_cursor(offset: int, extra: dict[str, Any] | None = None) -> str:
    raw = json.dumps({"o": offset, **(extra or {})}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        int(data["o"])
        return data
    except Exception as exc:  # noqa: BLE001 - any malformed cursor is the caller's error
        raise invalid("INVALID_CURSOR", "The cursor is malformed or expired") from exc


def resume_or_start(paging: dict[str, Any], start: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """A paged search's parameters and offset: from the cursor when the caller sends one (the
    search's parameters travel in it, ``encode_cursor(offset, {"p": params})``), else ``start()``
    for the first page of a new search."""
    if paging.get("cursor"):
        state = decode_cursor(paging["cursor"])
        return state["p"], int(state["o"])
    return start(), 0


def run_query(
    items: list[dict[str, Any]],
    query: dict[str, Any] | None,
    *,
    default_limit: int = 50,
    max_limit: int = 100,
    default_sort: list[dict[str, Any]] | None = None,
    filterable: Filterable | None = None,
    api: str = "query",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Filter, sort and page ``items``. Returns the page and ``pagingMetadata``.

    Offset paging (``paging``) answers ``{count, offset, total, tooManyToCount}``; cursor
    paging (``cursorPaging``) answers ``{count, cursors{next, prev}, hasNext}``. A cursor
    carries the filter and sort it was made for, so the next page needs only the cursor.
    ``filterable``: the fields the SDK documents as filterable for this query (others → 400).
    """
    query = dict(query or {})
    cursor_paging = query.get("cursorPaging")
    if cursor_paging and cursor_paging.get("cursor"):
        state = decode_cursor(cursor_paging["cursor"])
        query.setdefault("filter", state.get("f"))
        query.setdefault("sort", state.get("s"))
        offset = int(state["o"])
    else:
        offset = int((query.get("paging") or {}).get("offset") or 0)
    flt = query.get("filter")
    if filterable is not None:
        require_filterable(flt, filterable, api)
    sort = query.get("sort") or default_sort
    matched = [e for e in items if match_filter(e, flt)]
    matched = sort_items(matched, sort)
    paging = cursor_paging or query.get("paging") or {}
    limit = int(paging.get("limit") or default_limit)
    if limit < 0 or limit > max_limit:
        raise invalid("ILLEGAL_LIMIT", f"paging limit must be between 0 and {max_limit}")
    page = matched[offset : offset + limit]
    has_next = offset + limit < len(matched)
    if cursor_paging is not None:
        meta = {
            "count": len(page),
            "cursors": {
                "next": encode_cursor(offset + limit, {"f": flt, "s": sort}) if has_next else None,
                "prev": encode_cursor(max(offset - limit, 0), {"f": flt, "s": sort}) if offset else None,
            },
            "hasNext": has_next,
        }
    else:
        meta = {"count": len(page), "offset": offset, "total": len(matched), "tooManyToCount": False}
    return page, meta
