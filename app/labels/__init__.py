"""Prepaid return-label providers (EasyPost, Shippo): one module each behind `base.Provider`.

Adapters know no Flask and no database: plain values in, plain values out, over `requests`.
`provider_for(name, api_key, base_url)` builds the one an account has chosen.
"""
from __future__ import annotations

from app.labels.base import (Address, BoughtLabel, LabelError, Parcel, Provider, Rate, Shipment, Tracker,
                             choose_rate)

PROVIDERS = ("easypost", "shippo")


def provider_for(name: str, api_key: str, base_url: str | None = None, timeout: float = 20) -> Provider:
    """The adapter for `name` ("easypost" or "shippo") with the account's key; `base_url` points it
    at the sandbox instead of the provider's own API."""
    if name == "easypost":
        from app.labels.easypost import EasyPost  # each adapter only when chosen

        return EasyPost(api_key, base_url, timeout)
    if name == "shippo":
        from app.labels.shippo import Shippo  # each adapter only when chosen

        return Shippo(api_key, base_url, timeout)
    raise LabelError(f"unknown label provider {name!r}")


__all__ = ["PROVIDERS", "Address", "BoughtLabel", "LabelError", "Parcel", "Provider", "Rate", "Shipment",
           "Tracker", "choose_rate", "provider_for"]
