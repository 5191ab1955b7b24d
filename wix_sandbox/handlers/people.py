"""Staff members, resources (CONTRACT.md §8), contacts and members (§10)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import now_iso
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, violation
from wix_sandbox.query import match_filter, run_query
from wix_sandbox.routing import route

STAFF_FIELDS = ("RESOURCE_DETAILS", "ASSOCIATED_IDENTITY_STATUS")
EMAIL_TAGS = ("UNTAGGED", "MAIN", "HOME", "WORK")
PHONE_TAGS = ("UNTAGGED", "MAIN", "HOME", "MOBILE", "WORK", "FAX")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDSETS = {
    "BASIC": ("primaryInfo", "info.name"),
    "COMMUNICATION_DETAILS": ("primaryInfo", "info.name", "info.emails", "info.phones", "info.addresses"),
    "EXTENDED": ("primaryInfo", "info.name", "info.extendedFields"),
    "FULL": (),
}
CONTACT_SORT_FIELDS = (
    "createdDate",
    "lastActivity.activityDate",
    "primaryInfo.email",
    "info.name.first",
    "info.name.last",
    "info.company",
    "info.jobTitle",
    "info.birthdate",
)
CONTACTS_DEFAULT_LIMIT = 50
CONTACTS_MAX_LIMIT = 1000
MAX_SEARCH_LENGTH = 100
MEMBER_FIELDSETS = ("PUBLIC", "EXTENDED", "FULL")


# -- staff members and resources ----------------------------------------------------------------


def _staff_fields(values: Any) -> set[str]:
    values = [values] if isinstance(values, str) else list(values or [])
    unknown = [v for v in values if v not in STAFF_FIELDS]
    if unknown:
        raise ValidationFailed([violation("fields", f"unknown field {unknown[0]!r}", "INVALID_ENUM_VALUE")])
    return set(values)


def _staff_view(sb: Sandbox, staff: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """A staff member as returned: ``resource`` only with RESOURCE_DETAILS, as on Wix."""
    view = {k: v for k, v in staff.items() if k != "resource"}
    if "RESOURCE_DETAILS" in fields:
        resource = sb.state.get("resources", staff.get("resourceId")) or {}
        view["resource"] = {**(staff.get("resource") or {}), **resource}
    if "ASSOCIATED_IDENTITY_STATUS" in fields:
        identity = dict(staff.get("associatedWixIdentity") or {})
        identity.setdefault("connection", {"status": "DISCONNECTED"})
        view["associatedWixIdentity"] = identity
    return view


def _cursor_query(query: dict[str, Any] | None) -> dict[str, Any]:
    """A query for a cursor-paged API: with no paging at all, answer in cursor form anyway."""
    query = dict(query or {})
    if query.get("paging") is None and query.get("cursorPaging") is None:
        query["cursorPaging"] = {}
    return query


@route("POST /bookings/v1/staff-members/query")
def query_staff_members(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    fields = _staff_fields(req.body.get("fields"))
    staff, meta = run_query(sb.state.all("staff_members"), _cursor_query(req.body.get("query")), max_limit=100)
    return {"staffMembers": [_staff_view(sb, s, fields) for s in staff], "pagingMetadata": meta}


@route("GET /bookings/v1/staff-members/{staffMemberId}")
def get_staff_member(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    staff_id = req.path_params["staffMemberId"]
    staff = sb.state.get("staff_members", staff_id)
    if staff is None:
        raise not_found("STAFF_MEMBER_NOT_FOUND", "Staff member", staff_id)
    return {"staffMember": _staff_view(sb, staff, _staff_fields(req.params("fields")))}


@route("POST /bookings/v2/resources/query")
def query_resources(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    resources, meta = run_query(sb.state.all("resources"), _cursor_query(req.body.get("query")), max_limit=100)
    return {"resources": resources, "pagingMetadata": meta}


@route("GET /bookings/v2/resources/{resourceId}")
def get_resource(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    resource = sb.state.get("resources", req.path_params["resourceId"])
    if resource is None:
        raise not_found("RESOURCE_NOT_FOUND", "Resource", req.path_params["resourceId"])
    return {"resource": resource}


# -- contacts ---------------------------------------------------------------------------------


def _items(info: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = (info.get(key) or {}).get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValidationFailed(
            [violation(f"info.{key}.items", f"info.{key}.items must be a list of objects", "VALIDATION")]
        )
    return items


def _normalise_items(
    sb: Sandbox, items: list[dict[str, Any]], key: str, value_key: str, tags: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Give items ids and tags, check them, and make exactly one of them primary."""
    problems = []
    out = []
    for i, item in enumerate(items):
        value = str(item.get(value_key) or "").strip()
        if not value:
            problems.append(
                violation(f"info.{key}.items[{i}].{value_key}", f"{value_key} is required", "REQUIRED_FIELD")
            )
        elif value_key == "email" and not EMAIL_PATTERN.match(value):
            problems.append(violation(f"info.{key}.items[{i}].email", f"{value!r} is not a valid email", "FORMAT"))
        elif value_key == "phone" and not any(ch.isdigit() for ch in value):
            problems.append(violation(f"info.{key}.items[{i}].phone", f"{value!r} is not a valid phone", "FORMAT"))
        tag = item.get("tag") or "UNTAGGED"
        if tag not in tags:
            problems.append(violation(f"info.{key}.items[{i}].tag", f"unknown tag {tag!r}", "INVALID_ENUM_VALUE"))
        out.append(
            {**item, "id": sb.state.new_id(), "tag": tag, value_key: value, "primary": bool(item.get("primary"))}
        )
    if problems:
        raise ValidationFailed(problems)
    if sum(1 for item in out if item["primary"]) > 1:
        raise invalid("CANNOT_HAVE_MULTIPLE_PRIMARY_INFO", f"Only one of info.{key} can be primary")
    if out and not any(item["primary"] for item in out):
        # UNCONFIRMED: with no primary flagged, the first one becomes primary.
        out[0]["primary"] = True
    return out


def _primary(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((item for item in items if item["primary"]), None)


def _contact_emails(contact: dict[str, Any]) -> list[str]:
    return [
        str(i.get("email") or "").lower() for i in ((contact.get("info") or {}).get("emails") or {}).get("items") or []
    ]


@route("POST /contacts/v4/contacts")
def create_contact(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    info = req.body.get("info")
    if not isinstance(info, dict):
        raise ValidationFailed([violation("info", "info is required", "REQUIRED_FIELD")])
    name = {k: str(v).strip() for k, v in (info.get("name") or {}).items() if v not in (None, "")}
    emails = _normalise_items(sb, _items(info, "emails"), "emails", "email", EMAIL_TAGS)
    phones = _normalise_items(sb, _items(info, "phones"), "phones", "phone", PHONE_TAGS)
    if not (name.get("first") or name.get("last") or emails or phones):
        raise invalid("INSUFFICIENT_CONTACT_DATA", "A contact needs a name, a phone number or an email address")

    primary_email = _primary(emails)
    primary_phone = _primary(phones)
    if primary_email and not req.body.get("allowDuplicates"):
        wanted = primary_email["email"].lower()
        # UNCONFIRMED: duplicates are matched on email, case-insensitively, against every email of a contact.
        for other in sb.state.all("contacts"):
            if wanted in _contact_emails(other):
                raise SandboxError(
                    409,
                    "DUPLICATE_CONTACT_EXISTS",
                    f"A contact with email {primary_email['email']} already exists",
                    {"duplicateContactId": other["id"]},
                )

    stored_info: dict[str, Any] = {k: v for k, v in info.items() if k not in ("name", "emails", "phones")}
    if name:
        stored_info["name"] = name
    if emails:
        stored_info["emails"] = {"items": emails}
    if phones:
        stored_info["phones"] = {"items": phones}
    if isinstance(stored_info.get("addresses"), dict):
        stored_info["addresses"] = {
            "items": [{**a, "id": sb.state.new_id()} for a in stored_info["addresses"].get("items") or []]
        }
    now = now_iso(sb)
    contact: dict[str, Any] = {
        "id": sb.state.new_id(),
        # Contacts number revisions as integers, unlike most Wix entities.
        "revision": 1,
        "source": {"sourceType": "ADMIN"},
        "createdDate": now,
        "updatedDate": now,
        "lastActivity": {"activityDate": now, "activityType": "CONTACT_CREATED"},
        "primaryInfo": {},
        "info": stored_info,
    }
    if primary_email:
        contact["primaryInfo"]["email"] = primary_email["email"]
        contact["primaryEmail"] = {
            "email": primary_email["email"],
            "subscriptionStatus": "NOT_SET",
            "deliverabilityStatus": "NOT_SET",
        }
    if primary_phone:
        contact["primaryInfo"]["phone"] = primary_phone["phone"]
        contact["primaryPhone"] = {
            **({"countryCode": primary_phone["countryCode"]} if primary_phone.get("countryCode") else {}),
            "phone": primary_phone["phone"],
            "subscriptionStatus": "NOT_SET",
        }
    sb.state.put("contacts", contact)
    return {"contact": contact}


def _dig(entity: Any, path: str) -> Any:
    """The value at a dotted path, or None when any step is missing."""
    for part in path.split("."):
        if not isinstance(entity, dict) or part not in entity:
            return None
        entity = entity[part]
    return entity


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _project_contact(contact: dict[str, Any], fields: list[str], fieldsets: list[str]) -> dict[str, Any]:
    """``fields`` ∪ ``fieldsets``; ``id`` and ``revision`` always. Default (neither): FULL."""
    unknown = [f for f in fieldsets if f not in CONTACT_FIELDSETS]
    if unknown:
        raise ValidationFailed([violation("fieldsets", f"unknown fieldset {unknown[0]!r}", "INVALID_ENUM_VALUE")])
    if "FULL" in fieldsets or (not fields and not fieldsets):
        return contact
    paths = set(fields)
    for fieldset in fieldsets:
        paths.update(CONTACT_FIELDSETS[fieldset])
    out: dict[str, Any] = {"id": contact["id"], "revision": contact.get("revision")}
    for path in sorted(paths):
        value = _dig(contact, path)
        if value is not None:
            _set_path(out, path, value)
    return out


def _lower(cond: Any) -> Any:
    if isinstance(cond, str):
        return cond.lower()
    if isinstance(cond, list):
        return [_lower(c) for c in cond]
    if isinstance(cond, dict):
        return {k: _lower(v) for k, v in cond.items()}
    return cond


# Contact fields that are lists inside ``{"items": [...]}`` wrappers but are filtered as if flat.
_LIST_PATHS: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "info.emails.email": lambda c: [i.get("email") for i in _dig(c, "info.emails.items") or [] if i],
    "info.phones.phone": lambda c: [i.get("phone") for i in _dig(c, "info.phones.items") or [] if i],
    "info.labelKeys": lambda c: list(_dig(c, "info.labelKeys.items") or []),
}
# UNCONFIRMED: email filters compare case-insensitively.
_EMAIL_PATHS = ("info.emails.email", "primaryInfo.email")


def _list_match(values: list[Any], cond: Any) -> bool:
    if isinstance(cond, dict) and set(cond) & {"$exists", "$isEmpty", "$hasSome", "$hasAll"}:
        return match_filter({"v": values}, {"v": cond})
    checks = [match_filter({"v": v}, {"v": cond}) for v in values]
    if isinstance(cond, dict) and cond and set(cond) <= {"$ne", "$nin"}:
        return all(checks)
    return any(checks)


def _contact_matches(contact: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    for key, cond in (flt or {}).items():
        if key == "$and":
            ok = all(_contact_matches(contact, f) for f in cond)
        elif key == "$or":
            ok = any(_contact_matches(contact, f) for f in cond)
        elif key == "$not":
            ok = not _contact_matches(contact, cond)
        elif key in _LIST_PATHS:
            values = _LIST_PATHS[key](contact)
            if key in _EMAIL_PATHS:
                values, cond = _lower(values), _lower(cond)
            ok = _list_match(values, cond)
        elif key in _EMAIL_PATHS:
            value = _dig(contact, key)
            view = {"v": value.lower()} if isinstance(value, str) else {}
            ok = match_filter(view, {"v": _lower(cond)})
        else:
            ok = match_filter(contact, {key: cond})
        if not ok:
            return False
    return True


def _contact_search_text(contact: dict[str, Any]) -> str:
    name = (contact.get("info") or {}).get("name") or {}
    parts = [name.get("first"), name.get("last"), *_contact_emails(contact), *_LIST_PATHS["info.phones.phone"](contact)]
    return " ".join(str(p) for p in parts if p).lower()


@route("POST /contacts/v4/contacts/query")
def query_contacts(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    query = dict(req.body.get("query") or {})
    sort = query.get("sort") or []
    if len(sort) > 1:
        raise invalid("UNSUPPORTED_SORT_FIELD", "Contacts can be sorted by one field at a time")
    for spec in sort:
        if spec.get("fieldName") not in CONTACT_SORT_FIELDS:
            raise invalid("UNSUPPORTED_SORT_FIELD", f"Contacts can't be sorted by {spec.get('fieldName')!r}")
    search = req.body.get("search")
    if search is not None and (not isinstance(search, str) or len(search) > MAX_SEARCH_LENGTH):
        raise ValidationFailed(
            [violation("search", f"search is text of at most {MAX_SEARCH_LENGTH} characters", "MAX_LENGTH")]
        )
    flt = query.pop("filter", None)
    if flt is not None and not isinstance(flt, dict):
        raise invalid("MALFORMED_FILTER", "query.filter must be an object")
    contacts = [c for c in sb.state.all("contacts") if _contact_matches(c, flt)]
    if search:
        # UNCONFIRMED: Wix calls this "plain text search"; matched here as a case-insensitive
        # substring of first name, last name, emails and phones.
        needle = search.strip().lower()
        contacts = [c for c in contacts if needle in _contact_search_text(c)]
    query.pop("cursorPaging", None)
    page, meta = run_query(
        contacts,
        query,
        default_limit=CONTACTS_DEFAULT_LIMIT,
        max_limit=CONTACTS_MAX_LIMIT,
        # UNCONFIRMED: newest contacts first when no sort is given.
        default_sort=[{"fieldName": "createdDate", "order": "DESC"}],
    )
    fields, fieldsets = list(query.get("fields") or []), list(query.get("fieldsets") or [])
    return {"contacts": [_project_contact(c, fields, fieldsets) for c in page], "pagingMetadata": meta}


@route("GET /contacts/v4/contacts/{id}")
def get_contact(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    contact = sb.state.get("contacts", req.path_params["id"])
    if contact is None:
        raise not_found("CONTACT_NOT_FOUND", "Contact", req.path_params["id"])
    return {"contact": _project_contact(contact, req.params("fields"), req.params("fieldsets"))}


# -- members ----------------------------------------------------------------------------------


def _member_view(member: dict[str, Any], fieldsets: list[str]) -> dict[str, Any]:
    """PUBLIC (the default for query and get) is id + profile, with statuses UNKNOWN."""
    unknown = [f for f in fieldsets if f not in MEMBER_FIELDSETS]
    if unknown:
        raise ValidationFailed([violation("fieldsets", f"unknown fieldset {unknown[0]!r}", "INVALID_ENUM_VALUE")])
    if "FULL" in fieldsets:
        return member
    if "EXTENDED" in fieldsets:
        # UNCONFIRMED: EXTENDED is everything but the member's contact details.
        return {k: v for k, v in member.items() if k != "contact"}
    return {
        "id": member["id"],
        "profile": member.get("profile") or {},
        "status": "UNKNOWN",
        "privacyStatus": "UNKNOWN",
        "activityStatus": "UNKNOWN",
    }


def _member_search_text(member: dict[str, Any]) -> str:
    contact = member.get("contact") or {}
    parts = [
        (member.get("profile") or {}).get("nickname"),
        member.get("loginEmail"),
        contact.get("firstName"),
        contact.get("lastName"),
    ]
    return " ".join(str(p) for p in parts if p).lower()


@route("POST /members/v1/members/query")
def query_members(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    query = dict(req.body.get("query") or {})
    if "sorting" in query and "sort" not in query:
        query["sort"] = query.pop("sorting")
    query.pop("cursorPaging", None)
    members = sb.state.all("members")
    expression = ((req.body.get("search") or {}).get("expression") or "").strip().lower()
    if expression:
        # UNCONFIRMED: free-text search looks at nickname, login email and name.
        members = [m for m in members if expression in _member_search_text(m)]
    page, meta = run_query(members, query, default_limit=50, max_limit=100)
    fieldsets = list(req.body.get("fieldsets") or [])
    return {"members": [_member_view(m, fieldsets) for m in page], "metadata": meta}


@route("GET /members/v1/members/{id}")
def get_member(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    member = sb.state.get("members", req.path_params["id"])
    if member is None:
        raise not_found("MEMBER_NOT_FOUND", "Member", req.path_params["id"])
    return {"member": _member_view(member, req.params("fieldsets"))}
