"""Tools used by the example teams (import paths such as `support_tools:lookup_order`).

Team files find this module because tool modules are also imported from the team
file's folder.
"""

from __future__ import annotations

from langchain_core.tools import tool

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


def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())
