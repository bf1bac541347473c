"""Photos a shopper adds to a returned item: which reasons ask for them, how many, and the limits
an upload is held to before any image library reads it. Pure: plain values in, plain values out."""
from __future__ import annotations

from app.domain.vocabulary import Labelled

# Per file, checked on the bytes before decoding (a 10 MB JPEG is already a very large phone photo).
MAX_PHOTO_BYTES = 10 * 1024 * 1024
DEFAULT_PHOTOS_PER_ITEM = 5
PHOTOS_PER_ITEM_RANGE = (1, 10)
# The formats a shopper may send, as the image library names them, and the type each is served as.
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPT = "image/jpeg,image/png,image/webp"


class PhotoMode(Labelled):
    """Whether the portal asks for photos of an item returned for a reason."""

    NOT_ASKED = "not_asked", "Not asked"
    OPTIONAL = "optional", "Optional"
    REQUIRED = "required", "Required"


class PhotoRefused(ValueError):
    """An upload that is not a photo we keep; the message is what the shopper reads."""


def mode_for(modes: dict | None, reason: str | None) -> PhotoMode:
    """The photo mode of `reason` in an account's map (reason → mode); reasons not in it are not asked."""
    value = (modes or {}).get(reason or "")
    try:
        return PhotoMode(value)
    except ValueError:
        return PhotoMode.NOT_ASKED


def asks_photos(modes: dict | None) -> bool:
    """Whether any reason asks for photos (the portal shows photo fields only then)."""
    return any(mode_for(modes, reason) != PhotoMode.NOT_ASKED for reason in (modes or {}))


def check_size(size: int) -> None:
    """Refuse an empty file or one over MAX_PHOTO_BYTES, before anything decodes it."""
    if size <= 0:
        raise PhotoRefused("That file is empty.")
    if size > MAX_PHOTO_BYTES:
        raise PhotoRefused(f"Each photo must be {MAX_PHOTO_BYTES // (1024 * 1024)} MB or smaller.")


def count_problem(mode: PhotoMode, count: int, limit: int, reason: str) -> str | None:
    """What the shopper must fix about an item's number of photos, or None."""
    if mode == PhotoMode.REQUIRED and count == 0:
        return f"Add at least one photo of this item: the shop needs one for “{reason}”."
    if count > limit:
        return f"Add at most {limit} photo{'s' if limit != 1 else ''} per item."
    return None


def modes_from_lists(reasons: list[str], required: list[str], optional: list[str]) -> dict[str, str]:
    """The reason → mode map stored for the settings' two lists (reasons compared without case);
    reasons in neither list are not stored (not asked)."""
    by_key = {r.casefold(): r for r in reasons}
    modes = {by_key[r.casefold()]: PhotoMode.OPTIONAL.value for r in optional if r.casefold() in by_key}
    modes.update({by_key[r.casefold()]: PhotoMode.REQUIRED.value for r in required if r.casefold() in by_key})
    return modes
