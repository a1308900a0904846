"""SQLAlchemy models of the local store. Import from here; every table is registered on import."""

from appliance.store.models.base import Base, DecimalText, UtcDateTime
from appliance.store.models.credit import StoreCreditRow
from appliance.store.models.enums import (
    CashierRole,
    CustomerSyncState,
    OutboxState,
    SaleStatus,
    ShiftStatus,
)
from appliance.store.models.held import HeldSale
from appliance.store.models.invoices import (
    PosInvoice,
    PosInvoiceItem,
    PosInvoicePayment,
    PosInvoiceTax,
)
from appliance.store.models.items import (
    Batch,
    Item,
    ItemBarcode,
    ItemGroup,
    ItemGroupTax,
    ItemPrice,
    ItemTax,
    PriceList,
    SerialNo,
    Uom,
    UomConversionDetail,
)
from appliance.store.models.journal import JournalEntry
from appliance.store.models.loyalty import (
    LoyaltyPointEntry,
    LoyaltyProgram,
    LoyaltyProgramCollection,
)
from appliance.store.models.outbox import OutboxDependency, OutboxEntry
from appliance.store.models.parties import (
    Address,
    AddressLink,
    Customer,
    CustomerGroup,
    SalesPerson,
    Territory,
)
from appliance.store.models.pricing import (
    CouponCode,
    PricingRule,
    PricingRuleBrand,
    PricingRuleItemCode,
    PricingRuleItemGroup,
)
from appliance.store.models.settings import (
    Cashier,
    Currency,
    ModeOfPayment,
    ModeOfPaymentAccount,
    PosCustomerGroup,
    PosItemGroup,
    PosPaymentMethod,
    PosProfile,
    PosProfileUser,
    TotalsSettingsRow,
)
from appliance.store.models.shifts import (
    PosClosingEntry,
    PosClosingEntryDetail,
    PosOpeningEntry,
    PosOpeningEntryDetail,
)
from appliance.store.models.sync import ReceiptCounter, SyncState
from appliance.store.models.taxes import (
    ItemTaxTemplate,
    ItemTaxTemplateRow,
    SalesTaxesTemplate,
    SalesTaxesTemplateRow,
    TaxCategory,
    TaxRule,
)

__all__ = [
    "Address",
    "AddressLink",
    "Base",
    "Batch",
    "Cashier",
    "CashierRole",
    "CouponCode",
    "Currency",
    "Customer",
    "CustomerGroup",
    "CustomerSyncState",
    "DecimalText",
    "HeldSale",
    "Item",
    "ItemBarcode",
    "ItemGroup",
    "ItemGroupTax",
    "ItemPrice",
    "ItemTax",
    "ItemTaxTemplate",
    "ItemTaxTemplateRow",
    "JournalEntry",
    "LoyaltyPointEntry",
    "LoyaltyProgram",
    "LoyaltyProgramCollection",
    "ModeOfPayment",
    "ModeOfPaymentAccount",
    "OutboxDependency",
    "OutboxEntry",
    "OutboxState",
    "PosClosingEntry",
    "PosClosingEntryDetail",
    "PosCustomerGroup",
    "PosInvoice",
    "PosInvoiceItem",
    "PosInvoicePayment",
    "PosInvoiceTax",
    "PosItemGroup",
    "PosOpeningEntry",
    "PosOpeningEntryDetail",
    "PosPaymentMethod",
    "PosProfile",
    "PosProfileUser",
    "PriceList",
    "PricingRule",
    "PricingRuleBrand",
    "PricingRuleItemCode",
    "PricingRuleItemGroup",
    "ReceiptCounter",
    "SaleStatus",
    "SalesPerson",
    "SalesTaxesTemplate",
    "SalesTaxesTemplateRow",
    "SerialNo",
    "ShiftStatus",
    "StoreCreditRow",
    "SyncState",
    "TaxCategory",
    "TaxRule",
    "Territory",
    "TotalsSettingsRow",
    "Uom",
    "UomConversionDetail",
    "UtcDateTime",
]
