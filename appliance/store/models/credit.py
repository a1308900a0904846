"""Store credit: the payment rows of the store-credit Modes of Payment, pulled from ERPNext.

ERPNext keeps no balance for such a mode and does not stop overspending it (features/NOTES.md
§5 c): a customer's balance is minus the sum of their rows (a refund to the mode is a negative
row, credit given; a sale paid with it is a positive row, credit spent).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.models.base import Base


class StoreCreditRow(Base):
    __tablename__ = "store_credit_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_type: Mapped[str] = mapped_column(String)
    invoice: Mapped[str] = mapped_column(String, index=True)
    customer: Mapped[str] = mapped_column(String, index=True)
    mode_of_payment: Mapped[str] = mapped_column(String)
    amount: Mapped[Decimal]
