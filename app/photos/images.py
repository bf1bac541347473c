"""Turning an uploaded file into the one photo we keep: decoded by Pillow only if it is a JPEG,
PNG or WebP within the size and pixel limits, turned upright, and written again as a fresh JPEG.

Re-encoding is the point: nothing the shopper's file carried (EXIF with the phone's location,
XMP, ICC, comments, trailing bytes, a second file glued after the image) survives, because only
the decoded pixels are written out. Everything becomes JPEG: one format every browser shows, the
smallest for photographs, and transparency means nothing in a photo of a returned item (it is
flattened on white). The longest side is capped, which bounds what we store per photo.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from app.domain.photos import ALLOWED_FORMATS, PhotoRefused, check_size

MAX_SIDE = 3000
JPEG_QUALITY = 85
NOT_A_PHOTO = "That file is not a JPEG, PNG or WebP photo."
TOO_LARGE = "That image is too large to open (too many pixels)."


@dataclass(frozen=True)
class Photo:
    """A re-encoded photo: its bytes (no metadata), content type and size in pixels."""

    data: bytes
    content_type: str
    width: int
    height: int


def reencode(data: bytes) -> Photo:
    """The photo kept for an uploaded file's bytes, or PhotoRefused saying why not.

    Pillow refuses images over Image.MAX_IMAGE_PIXELS × 2 with DecompressionBombError and warns
    above MAX_IMAGE_PIXELS; the warning is made an error here, so a bomb never gets decoded."""
    check_size(len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # `formats` limits which decoders may even look at the bytes: a file named .png that is
            # a ZIP, a GIF, an SVG or text is "unidentified", whatever it claims to be.
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as image:
                if image.format not in ALLOWED_FORMATS:
                    raise PhotoRefused(NOT_A_PHOTO)
                image.seek(0)  # an animated WebP or PNG keeps its first frame
                if image.format == "JPEG":
                    # Decoded at the smallest scale still at least MAX_SIDE (JPEG's DCT can halve as
                    # it decodes): a 48-megapixel phone photo takes a fraction of its full memory.
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _encode(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRefused(TOO_LARGE) from None
        except PhotoRefused:
            raise
        except Exception:  # noqa: BLE001  (any decoder failure on hostile bytes means "not a photo")
            raise PhotoRefused(NOT_A_PHOTO) from None


def _encode(image: Image.Image) -> Photo:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Pillow's JPEG writer copies a comment read from the source (image.info) into the new file:
    # nothing read with the pixels may go out with them.
    image.info = {}
    out = io.BytesIO()
    # No exif=, icc_profile= or comment=: the new file carries pixels only.
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return Photo(data=out.getvalue(), content_type="image/jpeg", width=image.width, height=image.height)
