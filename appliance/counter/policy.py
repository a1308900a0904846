"""Who may do what at the counter without a supervisor: the till's one authority policy.

Screens ask ``may(cashier, action, ...)`` before they do something a role limits, and ask for a
supervisor's PIN (``Counter.approve``, journaled as an override) when the answer is no. The
rules live here, not in the screens, so every door to the counter (the screens, ``appliance
simulate``, the benches) answers the same.

Light on purpose: the sign-in screen's modules import it before SQLAlchemy loads.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from appliance.counter.cashier import CashierCard


class Action(StrEnum):
    """What a role may limit; the value is the override's name in the journal."""

    LINE_DISCOUNT = "line_discount"
    CART_DISCOUNT = "cart_discount"
    PRICE_OVERRIDE = "price_override"
    RETURN = "return"
    NO_SALE = "no_sale"
    TAX_EXEMPTION = "tax_exemption"  # a sale without the taxes its customer's category removes
    SUPERVISOR_MENU = "supervisor_menu"


# A discount is judged by its percentage of what it applies to; everything else by the role.
_BY_PERCENTAGE = (Action.LINE_DISCOUNT, Action.CART_DISCOUNT)


def may(cashier: CashierCard | None, action: Action, percentage: Decimal | None = None) -> bool:
    """True when ``cashier`` may do ``action`` on their own.

    Discounts take the ``percentage`` asked for: allowed up to the cashier's own limit
    (``CashierCard.discount_limit``: the Cashier record's, else the role's). Price overrides,
    returns, a drawer opened without a sale, a tax-exempt sale and the supervisor menu need a
    supervising role.
    Nobody signed in may do nothing.
    """
    if cashier is None:
        return False
    if action in _BY_PERCENTAGE:
        if percentage is None:
            raise ValueError(f"{action.value}: the discount's percentage is needed to judge it")
        return percentage <= cashier.discount_limit
    if action is Action.PRICE_OVERRIDE:
        return cashier.may_override_price
    if action is Action.RETURN:
        return cashier.may_approve_returns
    return cashier.supervises
