"""Colour contrast after WCAG 2.x (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio): relative
luminance, contrast ratios, the nearest shade of a colour that reaches a ratio, and the colours the
portal paints with a shop's brand colour so that its buttons and links stay readable. Pure."""
import colorsys
import math
import re
from typing import NamedTuple

AA_NORMAL = 4.5  # WCAG 2.x AA, normal-size text (success criterion 1.4.3)
WHITE, INK, BLACK = "#ffffff", "#1b1f24", "#000000"
# Where links and other brand-coloured text sit in the portal: cards, the page, a chosen option and
# an info message (app.css: --card, --bg, .choice:has(:checked), .flash). A link colour must read on all.
LINK_SURFACES = ("#ffffff", "#f6f7f9", "#f5f8ff", "#eef4ff")
_HEX = re.compile(r"#[0-9a-fA-F]{6}", re.ASCII)


def parse_hex(colour: str) -> tuple[int, int, int]:
    """The red, green and blue of a #rrggbb colour; ValueError for anything else."""
    if not isinstance(colour, str) or not _HEX.fullmatch(colour):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c * 255))):02x}" for c in (red, green, blue))


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in parse_hex(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21 (order does not matter)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shown_ratio(ratio: float) -> str:
    """A ratio as people read it, e.g. "4.4:1"; rounded down, so a failing 4.46 never reads as 4.5."""
    return f"{math.floor(ratio * 10) / 10:.1f}:1"


def nearest_passing_shade(colour: str, against: str, minimum: float = AA_NORMAL) -> str:
    """The lightest shade of `colour` (same hue and saturation, less lightness) that reaches
    `minimum` against the light colour `against`; the colour itself when it already does."""
    if contrast_ratio(colour, against) >= minimum:
        return colour
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in parse_hex(colour)))
    low, high = 0.0, lightness  # black passes against anything light enough to need this
    for _ in range(30):
        middle = (low + high) / 2
        if contrast_ratio(_hex(*colorsys.hls_to_rgb(hue, middle, saturation)), against) >= minimum:
            low = middle
        else:
            high = middle
    shade = _hex(*colorsys.hls_to_rgb(hue, low, saturation))
    while contrast_ratio(shade, against) < minimum:  # rounding to whole channels can cost a hair
        low -= 0.002
        shade = _hex(*colorsys.hls_to_rgb(hue, max(low, 0.0), saturation))
    return shade


def white_text_verdict(colour: str) -> str | None:
    """Why white text on `colour` is not readable enough (with the nearest shade where it is), or
    None when it reaches WCAG AA."""
    ratio = contrast_ratio(WHITE, colour)
    if ratio >= AA_NORMAL:
        return None
    return (f"White text on {colour.lower()} reaches only {shown_ratio(ratio)}; readable text needs "
            f"{shown_ratio(AA_NORMAL)} (WCAG AA). The nearest shade that passes is "
            f"{nearest_passing_shade(colour.lower(), WHITE)}.")


class Palette(NamedTuple):
    """What the portal paints: buttons in `button` with `on_button` text, links in `link`."""

    button: str
    on_button: str
    link: str


def text_on(background: str) -> str:
    """White text where it reaches AA on `background`, else the dark ink, else black (black
    always reaches AA where white does not)."""
    for text in (WHITE, INK):
        if contrast_ratio(text, background) >= AA_NORMAL:
            return text
    return BLACK


def portal_palette(brand: str) -> Palette:
    """The portal's colours for a shop's brand colour: buttons keep the colour and get text that
    reads on it; links take the nearest shade that reads on every surface they sit on."""
    brand = brand.lower()
    darkest = min(LINK_SURFACES, key=relative_luminance)
    return Palette(button=brand, on_button=text_on(brand), link=nearest_passing_shade(brand, darkest))
