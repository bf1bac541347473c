"""Models, one module per aggregate; importing this package registers every table."""
from app.models.accounts import Account, User, Role, ConnectionMethod
from app.models.analytics import (AnalyticsDurationsDaily, AnalyticsDurationsWeekly, AnalyticsFailedDaily,
                                  AnalyticsReturnsDaily, AnalyticsSoldDaily, AnalyticsVariantsDaily,
                                  AnalyticsVariantsMonthly, UnitsSoldDaily)
from app.models.bulk import BulkAction
from app.models.imports import ImportRun, ImportStatus
from app.models.labels import ReturnLabel
from app.models.orders import Order, OrderLine
from app.models.outbound import OutboundDelivery, OutboundEndpoint
from app.models.outbox import OutboxEmail
from app.models.photos import ReturnPhoto
from app.models.portal_texts import PortalText
from app.models.products import Product
from app.models.returns import Return, ReturnItem, ReturnEvent
from app.models.rules import Rule
from app.models.shopify_returns import ShopifyCall, ShopifyReturn
from app.models.webhooks import (WebhookDelivery, PendingDelivery, TrackingEvent, TrackingConnection, OrderConfirmation,
                                 ConfirmLease)

__all__ = [
    "Account", "User", "Role", "ConnectionMethod",
    "UnitsSoldDaily", "AnalyticsReturnsDaily", "AnalyticsDurationsDaily", "AnalyticsDurationsWeekly",
    "AnalyticsFailedDaily",
    "AnalyticsVariantsDaily", "AnalyticsVariantsMonthly", "AnalyticsSoldDaily",
    "BulkAction",
    "ImportRun", "ImportStatus",
    "ReturnLabel",
    "Order", "OrderLine",
    "OutboundDelivery", "OutboundEndpoint",
    "OutboxEmail",
    "ReturnPhoto",
    "PortalText",
    "Product",
    "Return", "ReturnItem", "ReturnEvent",
    "Rule",
    "ShopifyCall", "ShopifyReturn",
    "WebhookDelivery", "PendingDelivery", "TrackingEvent", "TrackingConnection", "OrderConfirmation", "ConfirmLease",
]
