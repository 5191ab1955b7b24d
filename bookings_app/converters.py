"""What an id in a URL or a form may look like, checked before any query sees it.

``<int:…>`` let through any run of digits: ``/packages/99999999999999999999/`` reached SQLite as
an integer it cannot hold (a 500). ``str.isdigit()`` is true for ``²`` and ``١٢``, which ``int()``
refuses or reads as Arabic-Indic digits. So ids are ASCII digits that fit a 64-bit key, and a
session reference is printable ASCII: anything else is a 404 at the resolver, or no id at all.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1  # a signed 64-bit primary key


def id_or_none(value: str | None) -> int | None:
    """A positive id from a form or a query string (``" 12 "`` → 12), else None."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID:
        return int(text)
    return None


class IdConverter:
    """``<id:pk>``: ASCII digits that fit a 64-bit primary key (a bigger number is no match: 404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("not a 64-bit id")  # the resolver takes it for no match
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


class RefConverter:
    """``<ref:ref>``: a Wix id, our pk or a form token — printable ASCII without ``/``, at most 200
    characters (Wix ids are GUIDs; a NUL or a ``²`` never is one)."""

    regex = "[!-.0-~]{1,200}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
