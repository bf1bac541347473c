"""Analytics: what the account's returns say over a date range, against the range before it,
drawn as inline SVG charts (each with its table of figures), every figure a link to the returns
list filtered to the returns behind it. Staff and admins see it."""
from datetime import date, datetime, timedelta, timezone

from flask import render_template, request, url_for
from flask_login import current_user
from wtforms import Form, SelectField
from wtforms.fields import DateField
from wtforms.validators import Optional

from app.dashboard import bp
from app.dashboard.scope import current_account
from app.dashboard.search import check_date_range
from app.domain import analytics as calc
from app.domain import svg_charts
from app.domain.analytics import DateRange
from app.domain.vocabulary import Option
from app.services.analytics import figures

PRESET_CHOICES = [(str(days), f"Last {days} days") for days in calc.PRESETS]


class AnalyticsForm(Form):
    """The range: a preset, or dates (which win when given). A GET form: nothing changes."""

    range = SelectField("Range", choices=PRESET_CHOICES, default=str(calc.DEFAULT_PRESET))
    date_from = DateField("From", validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField("To", validators=[Optional()], render_kw={"type": "date"})

    def validate(self, extra_validators=None):
        """Dates in words a person can act on (a malformed or far-off date, an end before the
        start), a preset from the list, and a range of at most MAX_RANGE_DAYS."""
        ok = super().validate(extra_validators)
        if self.range.errors:
            self.range.errors = ["Choose 30, 90 or 365 days."]
        ok = check_date_range(self, ok)
        if ok and (self.date_from.data or self.date_to.data):
            span = self.span(date.today())
            if span.days > calc.MAX_RANGE_DAYS:
                self.date_from.errors = [f"Choose at most {calc.MAX_RANGE_DAYS} days."]
                return False
        return ok

    def span(self, today: date) -> DateRange:
        """The range asked for (once valid): dates when given (a missing end is today, a missing
        start the default length before the end), else the preset."""
        start, end = self.date_from.data, self.date_to.data
        if start or end:
            end = end or max(today, start)
            return DateRange(start or end - timedelta(days=calc.DEFAULT_PRESET - 1), end)
        return calc.preset_range(int(self.range.data or calc.DEFAULT_PRESET), today)


@bp.get("/analytics")
def analytics():
    """The charts for the range asked for; a range nobody could mean is a 400 with the reason
    next to its field (and no charts)."""
    form = AnalyticsForm(request.args)
    if not form.validate():
        return render_template("dashboard/analytics.html", form=form, presets=PRESET_CHOICES, data=None), 400
    span = form.span(datetime.now(timezone.utc).date())
    data = figures(current_user.account_id, span)
    return render_template("dashboard/analytics.html", form=form, presets=PRESET_CHOICES, data=data,
                           charts=charts(data), currency=current_account().currency, calc=calc,
                           options=[*Option, None], list_url=list_url, plot_left=svg_charts.PLOT_LEFT,
                           custom=bool(form.date_from.data or form.date_to.data))


def list_url(span: DateRange, **filters) -> str:
    """The returns list filtered to `span` (the days returns were started) and `filters`."""
    return url_for("dashboard.returns", date_from=span.start.isoformat(), date_to=span.end.isoformat(), **filters)


def _period_label(period: DateRange) -> str:
    return period.start.isoformat() if period.days == 1 else f"{period.start.isoformat()} – {period.end.isoformat()}"


def charts(data) -> dict:
    """The geometry of each chart (app/domain/svg_charts.py), its bars linked to the list."""
    rates = [calc.rate(returned, sold) for returned, sold in zip(data.returned, data.sold, strict=True)]
    out = {"rate": svg_charts.columns(
        [(p.start.isoformat(), float(r * 100) if r is not None else None,
          f"{_period_label(p)}: {calc.share_text(r)} ({n} of {s} units)", list_url(p))
         for p, r, n, s in zip(data.periods, rates, data.returned, data.sold, strict=True)],
        lambda v: f"{v:g}%")}
    medians = [median for _, median, _ in data.durations]
    out["time"] = svg_charts.columns(
        [(p.start.isoformat(), float(m + 1 if m < calc.HOURLY_UNDER_HOURS else m + 24) if m is not None else None,
          f"{_period_label(p)}: median {calc.duration_words(m)}", list_url(p, issue="ISSUED"))
         for p, m in zip(data.periods, medians, strict=True)], lambda v: f"{v:g} h")
    out["products"] = svg_charts.ranking(
        [(row.title, row.returned, f"{row.returned} returned of {row.sold} sold ({calc.share_text(row.rate)})",
          list_url(data.span, product=row.key)) for row in data.products])
    out["variants"] = svg_charts.ranking(
        [(row.title, row.returned, f"{row.returned} returned of {row.sold} sold ({calc.share_text(row.rate)})",
          list_url(data.span, variant=row.key)) for row in data.variants])
    out["reasons"] = svg_charts.ranking(
        [(reason, units, calc.units_text(units), list_url(data.span, reason=reason))
         for reason, units, _ in data.reasons])
    split = data.current.split
    out["split"] = svg_charts.split(
        [(option.value if option else "none", option.label if option else "Not chosen yet",
          split.get(option.value if option else None, (0, 0))[0],
          calc.units_text(split.get(option.value if option else None, (0, 0))[0]),
          list_url(data.span, option=option.value if option else "none")) for option in [*Option, None]])
    out["medians"] = medians
    out["p90s"] = [p90 for _, _, p90 in data.durations]
    out["rates"] = rates
    return out
