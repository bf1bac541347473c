"""Staff actions ask first: read the confirmation as a person would, then post what it shows."""
import re


def token_of(body: str) -> str:
    """The confirmation token in a confirmation page or fragment."""
    found = re.search(r'name="confirm" value="([0-9a-f]+)"', body)
    assert found, body[:3000]
    return found.group(1)


def confirmed(client, url: str, data: dict | None = None, headers: dict | None = None, **query):
    """GET the confirmation at `url` (with `query`), then POST its token with `data`."""
    page = client.get(url, query_string=query or None, headers=headers)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return client.post(url, data={**(data or {}), "confirm": token_of(page.get_data(as_text=True))}, headers=headers)
