"""Tools used by the example teams (import paths such as `support_tools:lookup_order`).

Team files find this module because tool modules are also imported from the team
file's folder. `RefundCase` is the payload of a transfer to the handoff example's
billing agent (`handoff_input: support_tools:RefundCase`).
"""

from __future__ import annotations

from langchain_core.tools import tool
from pydantic import BaseModel, ConfigDict, Field

_ORDERS = {
    "A-1001": (
        "Order A-1001: noise-cancelling headphones, shipped 3 June with ParcelNow, "
        "tracking PN-55821; held at the Leeds depot since 5 June (address label damaged)."
    ),
    "A-1002": "Order A-1002: USB-C charger, delivered 2 June, signed for by 'M. Ortiz'.",
}


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order's contents and delivery status by its id (e.g. A-1001)."""
    return _ORDERS.get(order_id.strip().upper(), f"No order found with id {order_id!r}.")


class RefundCase(BaseModel):
    """What billing needs to decide a refund, given by the agent transferring to it."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(description="The order's id, e.g. A-1002.")
    amount: float = Field(gt=0, description="The amount in question, in pounds.")
    reason: str = Field(min_length=1, description="What the customer reports, in a sentence.")


@tool
def issue_refund(order_id: str, amount: float, reason: str) -> str:
    """Refund an amount (in pounds) of an order to the customer's card."""
    order = order_id.strip().upper()
    if order not in _ORDERS:
        return f"Refund refused: no order found with id {order_id!r}."
    return (
        f"Refund RF-{order} of £{amount:.2f} issued for order {order} ({reason}); it reaches "
        "the customer's card in 3-5 working days."
    )


def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())
