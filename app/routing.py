"""URL converters that refuse what no link of ours holds, so a hostile path is a 404 at routing
and never reaches a query: a path segment with a NUL or another control character (PostgreSQL
refuses a NUL in text), and a number written in digits other than ASCII ones (werkzeug's `int`
matches `\\d`, which is every script's digits: "١٢" would name row 12 and "²" would reach int())."""
from flask import Flask
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from app.forms import typed_only


class AsciiIntegerConverter(IntegerConverter):
    """`<int:…>`: ASCII digits only."""

    regex = r"[0-9]+"


class TypedTextConverter(UnicodeConverter):
    """`<…>` and `<string:…>`: a segment holding a character no person types is no page of ours."""

    def to_python(self, value: str) -> str:
        """The segment, or a ValidationError (a 404) when it holds a NUL, a control character,
        a lone surrogate or U+FFFD (bytes that were not UTF-8)."""
        if typed_only(value) != value:
            raise ValidationError()
        return value


class SignedTokenConverter(UnicodeConverter):
    """`<signed:…>`: a signed link's token, any text. Its view checks the signature and answers
    anything else, a NUL included, with its own page (the portal's "we could not find this return",
    with the way back to the shop), never with a query."""


def install_converters(app: Flask) -> None:
    """Use these converters for every route (call before the blueprints are registered)."""
    app.url_map.converters.update(int=AsciiIntegerConverter, default=TypedTextConverter,
                                  string=TypedTextConverter, signed=SignedTokenConverter)
