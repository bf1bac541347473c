"""Country names and ISO 3166-1 alpha-2 codes: `Canada` and `CA` are the same country."""
import unicodedata

from iso3166 import countries

# Everyday names the ISO list spells differently.
ALIASES = {
    "usa": "US", "united states": "US", "america": "US", "uk": "GB", "united kingdom": "GB",
    "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP",
    "vietnam": "VN", "iran": "IR", "syria": "SY", "laos": "LA", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "moldova": "MD", "czech republic": "CZ", "czechia": "CZ", "taiwan": "TW",
    "macedonia": "MK", "north macedonia": "MK", "holland": "NL", "the netherlands": "NL",
    "ivory coast": "CI", "cote d'ivoire": "CI", "cape verde": "CV", "swaziland": "SZ", "brunei": "BN",
    "micronesia": "FM", "palestine": "PS", "vatican": "VA", "turkey": "TR", "turkiye": "TR",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


_BY_NAME = {}
for _country in countries:
    _BY_NAME[_fold(_country.name)] = _country.alpha2
    _BY_NAME[_fold(_country.apolitical_name)] = _country.alpha2
_BY_NAME.update({_fold(name): code for name, code in ALIASES.items()})
_CODES = {c.alpha2 for c in countries}
_NAMES = {c.alpha2: c.apolitical_name for c in countries}


def country_code(value: str | None) -> str | None:
    """The alpha-2 code for a code (any case) or a name; None when it is no known country."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.upper() in _CODES:
        return text.upper()
    if len(text) == 3:
        try:
            return countries.get(text.upper()).alpha2
        except KeyError:
            pass
    return _BY_NAME.get(_fold(text))


def country_name(code: str) -> str:
    """A readable name for an alpha-2 code (the code itself when unknown)."""
    return _NAMES.get(code, code)
