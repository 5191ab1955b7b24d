"""Pricing Plans and the Benefit Programs that carry a plan's sessions (CONTRACT.md §13–14).

- ``pricing_plans.py`` — plans (V2, and the V3 query); :func:`plan_create` for builders and the seed.
- ``plan_orders.py`` — plan orders: offline orders, list, get, mark as paid; :func:`order_create`.
- ``benefit_programs.py`` — pools, balances, programs, transactions; eligibility and redemption.

How a sold plan becomes a benefit program and moves with the clock is ``rules/plan_programs.py``;
how its credits are taken and given back (also by eCommerce) is ``rules/plan_credits.py``.
"""

from wix_sandbox.handlers.plans import benefit_programs, plan_orders, pricing_plans
from wix_sandbox.handlers.plans.plan_orders import order_create
from wix_sandbox.handlers.plans.pricing_plans import plan_create

__all__ = ["benefit_programs", "order_create", "plan_create", "plan_orders", "pricing_plans"]
