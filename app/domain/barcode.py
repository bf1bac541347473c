"""Code 128 barcodes (code set B), drawn as inline SVG: the RMA number on a packing slip, readable
by any warehouse scanner. Pure: text in, widths or SVG markup out.

Symbol patterns and the modulo-103 check symbol are those of ISO/IEC 15417 (Code 128). Set B
carries printable ASCII (space to ~), which is what RMA numbers are made of.
"""
from __future__ import annotations

from html import escape

# Widths (bar, space, bar, space, bar, space) of symbols 0–105 and the stop symbol (106, with its
# final 2-module bar), in modules.
_TABLE = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 122132 "
    "122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 321221 312212 "
    "322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 231113 231311 "
    "112133 112331 132131 113123 113321 133121 313121 211331 231131 213113 213311 213131 311123 311321 "
    "331121 312113 312311 332111 314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 "
    "124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 114311 411113 "
    "411311 113141 114131 311141 411131 211412 211214 211232 2331112"
)
PATTERNS: tuple[tuple[int, ...], ...] = tuple(tuple(int(d) for d in p) for p in _TABLE.split())
START_B, STOP = 104, 106
MAX_LENGTH = 80  # longer than any RMA number; a scanner's line holds no more
QUIET_ZONE = 10  # modules of white each side, which scanners need to find the code


class BarcodeRefused(ValueError):
    """Text code set B cannot carry (empty, too long, or not printable ASCII)."""


def code128_values(text: str) -> list[int]:
    """Symbol values: start B, one per character, the check symbol, stop."""
    if not text or len(text) > MAX_LENGTH:
        raise BarcodeRefused(f"A barcode holds 1 to {MAX_LENGTH} characters.")
    if any(not " " <= c <= "~" for c in text):
        raise BarcodeRefused("A barcode holds letters, digits and punctuation (ASCII) only.")
    data = [ord(c) - 32 for c in text]
    check = (START_B + sum(value * weight for weight, value in enumerate(data, start=1))) % 103
    return [START_B, *data, check, STOP]


def code128_widths(text: str) -> list[int]:
    """Module widths of the whole symbol, alternating bar and space, starting with a bar."""
    return [width for value in code128_values(text) for width in PATTERNS[value]]


def code128_svg(text: str, module: int = 2, height: int = 80, label: str | None = None) -> str:
    """The barcode as an inline SVG element (bars only; the page prints the text under it).
    Integer coordinates and crisp edges, so a printer draws each bar its exact width. `label` is
    what a screen reader says (the page's language; "Barcode of <text>" by default)."""
    widths = code128_widths(text)
    x = QUIET_ZONE * module
    rects = []
    for index, width in enumerate(widths):
        if index % 2 == 0:
            rects.append(f'<rect x="{x}" y="0" width="{width * module}" height="{height}"/>')
        x += width * module
    total = x + QUIET_ZONE * module
    label = escape(label or f"Barcode of {text}", quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" aria-label="{label}" '
            f'data-module="{module}" viewBox="0 0 {total} {height}" width="{total}" height="{height}" '
            f'shape-rendering="crispEdges"><rect x="0" y="0" width="{total}" height="{height}" fill="#fff"/>'
            f'<g fill="#000">{"".join(rects)}</g></svg>')
