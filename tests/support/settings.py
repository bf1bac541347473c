"""The settings page as a browser would post it: every control of the one settings form with the
value the page shows, then the changes a person made."""
from html.parser import HTMLParser

SETTINGS = "/dashboard/settings"


class _FormValues(HTMLParser):
    """Successful controls of <form id="`form_id`"> (of every form when None): named inputs
    (checked boxes and radios only), the selected option of each select, and textareas."""

    def __init__(self, form_id: str | None = "settings-form"):
        super().__init__()
        self.values: dict[str, str] = {}
        self.form_id = form_id
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (self.form_id is None or attrs.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.values[name] = attrs.get("value") or ("y" if attrs.get("type") == "checkbox" else "")
        elif tag == "select":
            self.select, self.first_option = name, None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = attrs.get("value", "")
                self.values.setdefault(self.select, self.first_option)
            if "selected" in attrs:
                self.values[self.select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # A browser drops the newline that follows <textarea>.
            self.values[self.textarea] = self.values[self.textarea].removeprefix("\r\n").removeprefix("\n")
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data


def page_values(html: str, form_id: str | None = "settings-form") -> dict[str, str]:
    """What the settings form on `html` (or, with form_id None, its every form) would post if
    saved untouched (a name in several forms: the last one's value)."""
    reader = _FormValues(form_id)
    reader.feed(html)
    return reader.values


def settings_data(client, changes: dict) -> dict:
    """The settings form as shown now, with `changes` made (a value None: the control left out,
    as an unticked box or an unchosen radio is)."""
    values = page_values(client.get(SETTINGS).get_data(as_text=True))
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def post_settings(client, changes: dict, **kwargs):
    """Save the settings page after making `changes` (see settings_data)."""
    return client.post(SETTINGS, data=settings_data(client, changes), **kwargs)
