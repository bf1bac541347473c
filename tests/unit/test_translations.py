"""The shipped catalogues: every message the code and templates use is in each language, translated
(no empty or fuzzy entry), with the placeholders of its English source, and compiled (the committed
.mo is what its .po compiles to, so a clean clone shows the translations without a build step).

Extraction reads babel.cfg, so a new template under app/templates/portal/ (or its emails) is found
without being listed anywhere; `make i18n` brings the catalogues up to date."""
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.i18n import LANGUAGES, placeholders

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
SHIPPED = [code for code in LANGUAGES if code != "en"]
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}


def walked(path: str) -> bool:
    """The directories extraction reads (as `make i18n`'s --ignore-dirs: Babel's default would
    also leave out templates/portal/_partials, which starts with an underscore)."""
    name = Path(path).name
    return not name.startswith(".") and name != "__pycache__"


def extracted_ids() -> set[str]:
    """Every message id the code and templates mark, extracted as `make i18n` does."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=walked):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(code: str):
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def entries(code: str):
    return [m for m in catalog(code) if m.id]


@pytest.fixture(scope="module")
def extracted():
    return extracted_ids()


def test_extraction_finds_the_portal_templates_and_python_messages(extracted):
    # A page's heading, a form label (lazy_gettext), a message named with N_, a partial's legend
    # (in _partials/) and an email's greeting: all found.
    assert {"Start a return", "Order number", "We could not find that page.", "Photos of the item",
            "Hello,"} <= extracted


@pytest.mark.parametrize("code", SHIPPED)
def test_every_extracted_message_is_in_the_catalogue(code, extracted):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in entries(code)}
    missing = sorted(extracted - ids)
    assert missing == [], f"run `make i18n` and translate: {missing[:10]}"


@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(code):
    untranslated = [m.id for m in entries(code)
                    if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    fuzzy = [m.id for m in entries(code) if m.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("code", SHIPPED)
def test_translations_keep_the_placeholders_of_their_source(code):
    wrong = []
    for message in entries(code):
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholders(sources[-1])) | set(placeholders(sources[0]))
        for text in strings:
            if set(placeholders(text)) - wanted or (not isinstance(message.id, tuple)
                                                     and placeholders(text) != placeholders(message.id)):
                wrong.append((message.id, text))
    assert wrong == []


@pytest.mark.parametrize("code", SHIPPED)
def test_the_committed_mo_is_its_po_compiled(code):
    compiled = BytesIO()
    write_mo(compiled, catalog(code))
    committed = (TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert committed == compiled.getvalue(), f"run `make i18n`: {code}'s .mo is not its .po compiled"


def test_a_message_with_a_dropped_placeholder_is_caught():
    # The check above on a broken entry: the translation lost %(shop)s.
    assert placeholders("Retours pour la boutique") != placeholders("Returns for %(shop)s")


def test_the_domain_words_the_portal_shows_are_all_marked():
    # Labels and phrases the portal shows through |label and |translate are named where they are
    # defined (the domain, English); app/shopper_words.py lists them for extraction. A label added
    # to one of these without being listed there would reach shoppers in English.
    from app.domain.vocabulary import ACTION_WHEN_SHOPPER, Option, ReturnStatus
    from app.models.accounts import DEFAULT_RETURN_REASONS
    from app.shopper_words import SHOWN_AS_THEY_ARE

    shown = {*(s.label for s in ReturnStatus), *(o.label for o in Option), *ACTION_WHEN_SHOPPER.values(),
             *DEFAULT_RETURN_REASONS}
    assert shown - set(SHOWN_AS_THEY_ARE) == set()


def test_the_refusals_the_portal_translates_are_the_ones_raised():
    # The portal shows these services' refusals through |translate, matched by their English text:
    # a reworded refusal would silently reach shoppers in English.
    from app.domain.photos import MAX_PHOTO_BYTES, PhotoRefused, check_size
    from app.photos.images import NOT_A_PHOTO, TOO_LARGE
    from app.portal.variants import UNAVAILABLE
    from app.services.tracking_numbers import TAKEN_FOR_CUSTOMER
    from app.shopper_words import REFUSALS

    raised = {TAKEN_FOR_CUSTOMER, UNAVAILABLE, NOT_A_PHOTO, TOO_LARGE}
    for size in (0, MAX_PHOTO_BYTES + 1):
        with pytest.raises(PhotoRefused) as refusal:
            check_size(size)
        raised.add(str(refusal.value))
    assert raised - set(REFUSALS) == set()
