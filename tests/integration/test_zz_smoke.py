import pytest
from tests.factories import make_account
from app.extensions import db

def test_smoke(client, account):
    r = client.get(f"/r/{account.slug}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200, body
    assert "Commencer un retour" in body and 'lang="fr"' in body, body
    r = client.get(f"/r/{account.slug}?lang=de", headers={"Accept-Language": "fr"})
    assert "Rücksendung starten" in r.get_data(as_text=True)
    r = client.get(f"/r/{account.slug}", headers={"Accept-Language": "fr"})
    assert "Rücksendung starten" in r.get_data(as_text=True)
    for bad in ["\x00", "../", "x" * 5000, "zz", "%ED%A0%80"]:
        r = client.get(f"/r/{account.slug}?lang=" + bad if bad.startswith("%") else f"/r/{account.slug}", query_string=None if bad.startswith("%") else {"lang": bad})
        assert r.status_code < 500
