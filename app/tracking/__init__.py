"""Tracking-provider adapters: one module per provider (verify the delivery, parse its events,
map statuses through app/domain/tracking.py)."""
from app.tracking import aftership, easypost, generic, seko, shippo
from app.tracking.base import (Adapter, Credentials, DeliveryRefused, ParsedEvent, SignatureInvalid,
                               StaleDelivery)

ADAPTERS: dict[str, Adapter] = {adapter.name: adapter for adapter in (
    generic.ADAPTER, aftership.ADAPTER, easypost.ADAPTER, seko.ADAPTER, shippo.ADAPTER)}


def adapter_for(provider: str) -> Adapter | None:
    """The adapter of a provider name as it appears in the URL; None when we have none."""
    return ADAPTERS.get(provider)


__all__ = ["ADAPTERS", "Adapter", "Credentials", "DeliveryRefused", "ParsedEvent", "SignatureInvalid",
           "StaleDelivery", "adapter_for"]
