"""Contacts v4: the people who book (CONTRACT.md §10)."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

CONTACTS = "/contacts/v4/contacts"


def create_contact(wix: WixClient, *, info: dict[str, Any], allow_duplicates: bool | None = None) -> dict[str, Any]:
    """Create a contact from ``info{name{first, last}, emails{items[]}, phones{items[]}}``.

    Returns ``{contact}``. Raises a ``WixError`` with code DUPLICATE_CONTACT_EXISTS (unless
    ``allow_duplicates``) or INSUFFICIENT_CONTACT_DATA, ``WixValidationError``.
    """
    return wix.post(CONTACTS, compact({"info": info, "allowDuplicates": allow_duplicates}), idempotent=False)


def query_contacts(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, sort, paging{limit ≤1000, offset}, fieldsets}`` → ``{contacts[], pagingMetadata}``."""
    return wix.post(f"{CONTACTS}/query", {"query": query or {}}, idempotent=True)


def get_contact(wix: WixClient, *, contact_id: str, fieldsets: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{contact}``. Raises ``WixNotFound`` (CONTACT_NOT_FOUND)."""
    return wix.get(f"{CONTACTS}/{path_param(contact_id, 'contact_id')}", params={"fieldsets": fieldsets})
