

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
