"""Errors the sandbox raises, rendered in Wix's error envelope (CONTRACT.md §2.1).

Status codes follow the mapping in CONTRACT.md §2.2: ``*_NOT_FOUND`` → 404, state and
precondition codes → 428, validation → 400, permission → 403, revision races → 409.
"""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """A business rejection: ``details.applicationError``."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.data = data or {}

    def body(self) -> dict[str, Any]:
        return {
            "message": self.description,
            "details": {
                "applicationError": {
                    "code": self.code,
                    "description": self.description,
                    "data": self.data,
                }
            },
        }


class ValidationFailed(SandboxError):
    """Input validation: ``details.validationError.fieldViolations`` (HTTP 400)."""

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        self.violations = violations
        description = "; ".join(f"{v['field']}: {v['description']}" for v in violations)
        super().__init__(400, "INVALID_ARGUMENT", description)

    def body(self) -> dict[str, Any]:
        return {
            "message": self.description,
            "details": {"validationError": {"fieldViolations": self.violations}},
        }


def violation(field: str, description: str, rule: str = "VALIDATION") -> dict[str, Any]:
    """One ``FieldViolation``; ``rule`` is a ``RuleType`` value."""
    return {"field": field, "description": description, "violatedRule": rule, "data": {}}


def require(field: str, value: Any) -> None:
    """Raise a REQUIRED_FIELD violation when ``value`` is missing or empty."""
    if value in (None, "", [], {}):
        raise ValidationFailed([violation(field, f"{field} is required", "REQUIRED_FIELD")])


def not_found(code: str, what: str, entity_id: str) -> SandboxError:
    return SandboxError(404, code, f"{what} {entity_id} not found", {"id": entity_id})


def precondition(code: str, description: str, data: dict[str, Any] | None = None) -> SandboxError:
    return SandboxError(428, code, description, data)


def invalid(code: str, description: str, data: dict[str, Any] | None = None) -> SandboxError:
    return SandboxError(400, code, description, data)
