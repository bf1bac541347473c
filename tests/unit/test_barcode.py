"""Code 128 (set B) barcodes of RMA numbers: the symbols, the check digit and the drawing."""
import re

import pytest

from app.domain.barcode import PATTERNS, BarcodeRefused, code128_svg, code128_values, code128_widths


def test_every_symbol_is_eleven_modules_with_an_even_bar_total_and_all_differ():
    # ISO/IEC 15417: each symbol is 3 bars and 3 spaces over 11 modules; the bars' widths add up
    # to an even number (the stop symbol adds a 2-module bar: 13 modules).
    assert len(PATTERNS) == 107
    for value, widths in enumerate(PATTERNS[:106]):
        assert len(widths) == 6 and sum(widths) == 11, value
        assert sum(widths[0::2]) % 2 == 0, value
    assert PATTERNS[106] == (2, 3, 3, 1, 1, 1, 2)
    assert len(set(PATTERNS)) == 107


@pytest.mark.parametrize("text, values", [
    # Wikipedia's worked example "PJJ123C" starts in set A (103): sum 878, check 54. In set B
    # (start 104) the same data weighs 879, check 55.
    ("PJJ123C", [104, 48, 42, 42, 17, 18, 19, 35, 55, 106]),
    # barcoderesource.com's set B example: "abcdef" weighs 1435 + 104 = 1539, check 97.
    ("abcdef", [104, 65, 66, 67, 68, 69, 70, 97, 106]),
    ("R-1001", [104, 50, 13, 17, 16, 16, 17, (104 + 50 + 26 + 51 + 64 + 80 + 102) % 103, 106]),
    (" ", [104, 0, 104 % 103, 106]),
])
def test_values_are_start_b_data_check_and_stop(text, values):
    assert code128_values(text) == values


def test_known_symbol_patterns():
    # Start B is 211214, the stop 2331112, "A" (value 33) 111323, "0" (value 16) 123122.
    assert PATTERNS[104] == (2, 1, 1, 2, 1, 4)
    assert PATTERNS[33] == (1, 1, 1, 3, 2, 3)
    assert PATTERNS[16] == (1, 2, 3, 1, 2, 2)
    widths = code128_widths("A")
    assert widths[:6] == [2, 1, 1, 2, 1, 4] and widths[6:12] == [1, 1, 1, 3, 2, 3]
    assert widths[-7:] == [2, 3, 3, 1, 1, 1, 2]
    # 10 modules of quiet zone each side are the drawing's margins, not widths.
    assert sum(widths) == 11 * 3 + 13


@pytest.mark.parametrize("text", ["", "R-1001\x00", "R-é", "R-\ud800", "R-١٢٣", "x" * 81])
def test_what_code_128_set_b_cannot_carry_is_refused(text):
    with pytest.raises(BarcodeRefused):
        code128_values(text)


def test_the_svg_draws_one_rect_per_bar_and_names_the_text():
    svg = code128_svg("R-1001")
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="Barcode of R-1001"' in svg
    module = int(re.search(r'data-module="(\d+)"', svg).group(1))
    bars = [(int(x), int(w)) for x, w in re.findall(r'<rect x="(\d+)" y="0" width="(\d+)"', svg.split("<g")[1])]
    widths = code128_widths("R-1001")
    assert [w // module for _, w in bars] == widths[0::2]
    # Bars start after the 10-module quiet zone, each after the bars and spaces before it.
    assert [x // module for x, _ in bars] == [10 + sum(widths[:i]) for i in range(0, len(widths), 2)]
