"""The Benefit Programs rules that eCommerce membership charging calls into (CONTRACT.md §13–14).

The sandbox's answer to the UNCONFIRMED "what is a membership id": the benefit-programs pool id
(balance id == pool id), which is what ``membershipOptions.eligibleMemberships[].id`` carries.

Implemented by the pricing-plans / benefit-programs handler module; eCommerce handlers call
only these functions.
"""

from __future__ import annotations

from typing import Any

from .app import Sandbox


def eligible_memberships(
    sb: Sandbox, *, member_id: str, service_id: str, line_item_ids: list[str]
) -> list[dict[str, Any]]:
    """The member's ACTIVE pools that cover ``service_id`` and still have credit.

    Returns checkout ``Membership`` objects:
    ``{id: poolId, appId: PRICING_PLANS_APP_ID, name: {original}, lineItemIds, credits{total, remaining}
    (omitted for unlimited plans), expirationDate?}``.
    """
    from .handlers import plans

    return plans.eligible_memberships(sb, member_id=member_id, service_id=service_id, line_item_ids=line_item_ids)


def charge_membership(sb: Sandbox, *, member_id: str, membership_id: str, service_id: str, reference: str) -> str:
    """Take one credit from pool ``membership_id`` for ``service_id``; returns the benefit transaction id.

    Raises ``SandboxError`` 428 ``NOT_ENOUGH_BALANCE`` when the pool is empty, 404 ``POOL_NOT_FOUND``,
    428 ``POOL_NOT_ACTIVE``, 428 ``POLICY_EXPRESSION_EVALUATED_TO_FALSE`` when the pool does not
    cover the service or belongs to another member.
    """
    from .handlers import plans

    return plans.charge_membership(
        sb, member_id=member_id, membership_id=membership_id, service_id=service_id, reference=reference
    )


def void_membership_charge(sb: Sandbox, *, transaction_id: str) -> None:
    """Give the credit of a charge back (the charge's benefit transaction is cancelled)."""
    from .handlers import plans

    plans.void_membership_charge(sb, transaction_id=transaction_id)
