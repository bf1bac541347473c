"""WCAG 2.x contrast: relative luminance, ratios, the nearest passing shade and the portal's colours."""
import pytest

from app.domain.contrast import (AA_NORMAL, LINK_SURFACES, contrast_ratio, nearest_passing_shade, portal_palette,
                                 relative_luminance, white_text_verdict)


@pytest.mark.parametrize("colour, luminance", [("#ffffff", 1.0), ("#000000", 0.0), ("#808080", 0.2158605),
                                               ("#FF0000", 0.2126), ("#00ff00", 0.7152), ("#0000ff", 0.0722)])
def test_relative_luminance_follows_wcag(colour, luminance):
    assert relative_luminance(colour) == pytest.approx(luminance, abs=1e-6)


@pytest.mark.parametrize("a, b, ratio", [
    ("#ffffff", "#000000", 21.0), ("#000000", "#ffffff", 21.0), ("#777777", "#ffffff", 4.48),
    ("#1f6feb", "#f6f7f9", 4.32),  # the old link colour on the page background: below AA
    ("#ffffff", "#ffe680", 1.24),  # white on a light yellow button
])
def test_contrast_ratio(a, b, ratio):
    assert contrast_ratio(a, b) == pytest.approx(ratio, abs=0.01)


@pytest.mark.parametrize("colour", ["#ffe680", "#1f6feb", "#00ff00", "#ff0000", "#9ecbff", "#777777"])
def test_nearest_passing_shade_is_darker_keeps_the_hue_and_only_just_passes(colour):
    shade = nearest_passing_shade(colour, "#ffffff")
    assert contrast_ratio(shade, "#ffffff") >= AA_NORMAL
    assert relative_luminance(shade) < relative_luminance(colour) or contrast_ratio(colour, "#ffffff") >= AA_NORMAL
    # nearest: one step lighter in every channel would fail again
    lighter = "#" + "".join(f"{min(255, int(shade[i:i + 2], 16) + 3):02x}" for i in (1, 3, 5))
    assert contrast_ratio(lighter, "#ffffff") < AA_NORMAL + 0.3
    red, green, blue = (int(shade[i:i + 2], 16) for i in (1, 3, 5))
    r0, g0, b0 = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    assert (max(r0, g0, b0) == r0) == (max(red, green, blue) == red)  # same dominant channel: same hue family


def test_a_passing_colour_is_its_own_nearest_shade():
    assert nearest_passing_shade("#0b4f9c", "#ffffff") == "#0b4f9c"


def test_white_text_verdict_says_why_and_what_passes():
    assert white_text_verdict("#1f6feb") is None
    message = white_text_verdict("#ffe680")
    assert "1.2:1" in message and "4.5:1" in message
    assert nearest_passing_shade("#ffe680", "#ffffff") in message


@pytest.mark.parametrize("brand", ["#1f6feb", "#ffe680", "#ffffff", "#000000", "#777777", "#00ff00", "#aa3300"])
def test_portal_palette_is_always_readable(brand):
    palette = portal_palette(brand)
    assert palette.button == brand
    assert contrast_ratio(palette.on_button, palette.button) >= AA_NORMAL
    for surface in ("#ffffff", "#f6f7f9", "#f5f8ff"):
        assert contrast_ratio(palette.link, surface) >= AA_NORMAL


def test_a_passing_colour_keeps_white_buttons_and_links_only_as_dark_as_needed():
    palette = portal_palette("#0b4f9c")
    assert (palette.button, palette.on_button, palette.link) == ("#0b4f9c", "#ffffff", "#0b4f9c")
    light = portal_palette("#ffe680")
    assert light.on_button != "#ffffff"


@pytest.mark.parametrize("bad", ["", "red", "#12345", "#1234567", "#gggggg", "#１２３４５６", "\x00", "\ud800"])
def test_only_hex_colours_are_read(bad):
    with pytest.raises(ValueError):
        relative_luminance(bad)


def test_the_stylesheet_writes_links_in_a_colour_that_reaches_aa_on_every_light_surface():
    import re
    from pathlib import Path

    css = (Path(__file__).parents[2] / "app/static/css/app.css").read_text()
    link_rule = re.search(r"^a \{ color: var\((--[\w-]+)\); \}", css, re.M)
    value = re.search(rf"{link_rule.group(1)}: (#[0-9a-fA-F]{{6}});", css).group(1)
    page = re.search(r"--bg: (#[0-9a-fA-F]{6});", css).group(1)
    for surface in (page, "#eef1f4", *LINK_SURFACES):
        assert contrast_ratio(value, surface) >= AA_NORMAL, (value, surface)
