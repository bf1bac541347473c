"""The outbound webhook endpoint form (admins): URL, an optional description, the topics (checkboxes)
and whether it is enabled. The URL's shape and address are checked by the service, whose refusal
is shown beside the field."""
from wtforms import BooleanField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.forms import BaseForm, plain_text, strip_spaces
from app.outbound.addresses import MAX_URL_LENGTH
from app.services.outbound_webhooks import MAX_DESCRIPTION, TOPIC_LABELS, TOPICS


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (WTForms' select-multiple, drawn as a list of checkboxes)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(BaseForm):
    """One endpoint, added or edited."""

    url = StringField("Endpoint URL", filters=[strip_spaces], validators=[
        InputRequired("Enter the endpoint's URL, e.g. https://erp.example.com/boomerang."), plain_text,
        Length(max=MAX_URL_LENGTH, message=f"The URL is too long (at most {MAX_URL_LENGTH} characters).")],
        render_kw={"inputmode": "url", "spellcheck": "false", "autocapitalize": "off"})
    description = StringField("Description (optional)", filters=[strip_spaces], validators=[
        Optional(), plain_text, Length(max=MAX_DESCRIPTION, message=f"Use at most {MAX_DESCRIPTION} characters.")])
    topics = CheckboxesField("Topics", choices=[(t, f"{TOPIC_LABELS[t]} ({t})") for t in TOPICS],
                             default=list(TOPICS), validate_choice=False)
    enabled = BooleanField("Enabled (deliveries are sent)", default=True)

    def validate_topics(self, field):
        """At least one topic, each from the list (a forged value is refused, not ignored)."""
        chosen = field.data or []
        if not chosen:
            raise ValidationError("Choose at least one topic.")
        if any(t not in TOPICS for t in chosen):
            field.data = [t for t in chosen if t in TOPICS]
            raise ValidationError("Choose topics from the list.")
