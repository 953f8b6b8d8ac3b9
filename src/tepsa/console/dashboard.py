"""Supervisors' dashboard: figures over intakes and assignments, as charts and CSV.

``compute_figures`` reads the database for a period of whole months and returns plain
data (no HTML, no SVG); ``charts_for`` turns those figures into inline SVG charts
(tepsa.console.charts) and ``csv_rows`` into the rows of the CSV export, so the page and
the file always show the same numbers. Only counts, codes and durations leave the
database: no message text, names or phone numbers.

Months are counted in WIB (UTC+7), the hotline's clock, so a report at 23:30 WIB on
30 June counts for June. Rows are bucketed in Python (portable across SQLite and
PostgreSQL; fine at the hotline's volumes); the open-caseload figures use SQL GROUP BY.

Targets for the time to an accepted assignment come from shared/spec/triage-guide.md,
section 1: darurat, worker dispatched within 1 h; tinggi, worker contact within 24 h;
sedang, worker contact within 3 days; rendah, no dispatch.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import func
from sqlmodel import Session, col, select

from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Worker
from tepsa.audit.service import record
from tepsa.auth.deps import Principal, client_address
from tepsa.console import charts
from tepsa.console.session import console_user
from tepsa.console.web import duration, lang_of, render, translator
from tepsa.db import as_utc, utcnow
from tepsa.geo.models import Region, Unit, UnitArea
from tepsa.intake.models import Intake
from tepsa.vocab import URGENCIES, category_label, urgency_label

router = APIRouter(tags=["console"], include_in_schema=False)

WIB = timezone(timedelta(hours=7))
DEFAULT_MONTHS = 6
MAX_MONTHS = 36
TOP_CATEGORIES = 6
MAX_WORKER_BARS = 25
OTHER = "lainnya"
NO_CATEGORY = "-"
UNKNOWN = "-"

TARGET_SECONDS: dict[str, int | None] = {
    "darurat": 60 * 60,  # worker dispatched within 1 h
    "tinggi": 24 * 60 * 60,  # worker contact within 24 h
    "sedang": 3 * 24 * 60 * 60,  # worker contact within 3 days
    "rendah": None,  # answered by the operator; no dispatch
}
"""Target response per urgency, from shared/spec/triage-guide.md section 1."""

ACCEPTED_STATES = ("accepted", "completed")
"""An assignment that a worker accepted (completed ones were accepted first)."""

URGENCY_COLOURS = {"darurat": "#b3261e", "tinggi": "#b45309", "sedang": "#1d4ed8", "rendah": "#4b5563"}

FIGURES = ("per_month_category", "per_province", "per_channel", "time_to_accept", "open_per_unit",
           "open_per_worker")


# --- the period ------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _parse_month(raw: str | None) -> date | None:
    match = _MONTH.match((raw or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    first: date
    """First day of the first month."""
    last: date
    """First day of the last month (inclusive)."""

    @property
    def months(self) -> list[str]:
        out, m = [], self.first
        while m <= self.last:
            out.append(f"{m:%Y-%m}")
            m = _add_months(m, 1)
        return out

    @property
    def start(self) -> datetime:
        """The first moment of the period (midnight WIB on the first day), in UTC."""
        return datetime(self.first.year, self.first.month, 1, tzinfo=WIB).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period, in UTC."""
        after = _add_months(self.last, 1)
        return datetime(after.year, after.month, 1, tzinfo=WIB).astimezone(UTC)

    @property
    def dari(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def sampai(self) -> str:
        return f"{self.last:%Y-%m}"


def parse_period(dari: str | None, sampai: str | None, now: datetime | None = None) -> tuple[Period, list[str]]:
    """The months asked for (``YYYY-MM``), or the last six months up to this one (WIB).

    Returns the period and the keys of any problems (shown as notices, never errors).
    """
    this_month = (now or utcnow()).astimezone(WIB).date().replace(day=1)
    problems: list[str] = []
    last = _parse_month(sampai) if sampai else this_month
    first = _parse_month(dari) if dari else None
    if (dari and first is None) or (sampai and last is None):
        problems.append("bad_month")
    last = last or this_month
    first = first or _add_months(last, -(DEFAULT_MONTHS - 1))
    if first > last:
        first, last = last, first
        problems.append("swapped")
    if (last.year * 12 + last.month) - (first.year * 12 + first.month) + 1 > MAX_MONTHS:
        first = _add_months(last, -(MAX_MONTHS - 1))
        problems.append("too_long")
    return Period(first, last), problems


# --- the figures -----------------------------------------------------------------------------

@dataclass
class Item:
    key: str
    label: str
    value: int
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class Timing:
    urgency: str
    label: str
    total: int
    """Reports of the period with this urgency."""
    accepted: int
    """Of those, how many a worker accepted."""
    median_s: float | None
    p90_s: float | None
    target_s: int | None
    within_target: int | None
    """Accepted within the target (None without a target)."""


@dataclass
class Figures:
    period: Period
    total: int
    months: list[str]
    by_month_category: dict[str, dict[str, int]]
    """month -> category code (or '-') -> count; every category, not only the top ones."""
    category_labels: dict[str, str]
    top_categories: list[str]
    per_province: list[Item]
    per_channel: list[Item]
    time_to_accept: list[Timing]
    open_total: int
    open_unassigned: int
    open_per_unit: list[Item]
    open_per_worker: list[Item]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _month_of(moment: datetime) -> str:
    return f"{as_utc(moment).astimezone(WIB):%Y-%m}"


def provinsi_kode(kabkota_kode: str | None) -> str | None:
    return kabkota_kode.split(".", 1)[0] if kabkota_kode else None


def _sorted_items(counts: Counter, label: Callable[[str], str], last: set[str] = frozenset()) -> list[Item]:
    """Largest first; the keys in ``last`` (unknown, other) at the end."""
    items = [Item(k, label(k), v) for k, v in counts.items()]
    return sorted(items, key=lambda i: (i.key in last, -i.value, i.label))


def compute_figures(session: Session, period: Period, lang: str = "id") -> Figures:
    """Every figure of the dashboard for ``period`` as plain data (labels in ``lang``)."""
    t = translator(lang)
    rows = session.exec(
        select(Intake.id, Intake.created_at, Intake.category, Intake.channel, Intake.kabkota_kode, Intake.urgency)
        .where(Intake.created_at >= period.start, Intake.created_at < period.end)
    ).all()
    months = period.months
    by_month: dict[str, dict[str, int]] = {m: defaultdict(int) for m in months}
    categories: Counter = Counter()
    provinces: Counter = Counter()
    channels: Counter = Counter()
    urgency_of: dict[int, str] = {}
    created: dict[int, datetime] = {}
    for intake_id, created_at, category, channel, kabkota, urgency in rows:
        month = _month_of(created_at)
        if month not in by_month:  # cannot happen with the WHERE above; keeps the maths honest
            continue
        cat = category or NO_CATEGORY
        by_month[month][cat] += 1
        categories[cat] += 1
        provinces[provinsi_kode(kabkota) or UNKNOWN] += 1
        channels[channel or UNKNOWN] += 1
        if urgency:
            urgency_of[intake_id] = urgency
            created[intake_id] = as_utc(created_at)

    def cat_label(code: str) -> str:
        if code == NO_CATEGORY:
            return t("dasbor:no_category")
        if code == OTHER:
            return t("dasbor:other")
        return category_label(code, lang)

    ranked = [c for c, _ in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))]
    top = ranked if len(ranked) <= TOP_CATEGORIES + 1 else ranked[:TOP_CATEGORIES]  # no 'other' of one
    labels = {c: cat_label(c) for c in [*ranked, OTHER]}

    prov_names = dict(session.exec(
        select(Region.kode, Region.nama).where(col(Region.kode).in_([p for p in provinces if p != UNKNOWN] or ["?"]))
    ).all())

    def channel_label(code: str) -> str:
        if code == UNKNOWN:
            return UNKNOWN
        found = t(f"dasbor:channel_{code}")
        return code if found == f"channel_{code}" else found

    time_to_accept = _timing(session, urgency_of, created, lang)
    open_total, unassigned, per_unit, per_worker = _open_caseload(session, t)
    return Figures(
        period=period, total=len(rows), months=months,
        by_month_category={m: dict(v) for m, v in by_month.items()},
        category_labels=labels, top_categories=top,
        per_province=_sorted_items(provinces, lambda k: t("dasbor:unknown_place") if k == UNKNOWN
                                   else prov_names.get(k, k), {UNKNOWN}),
        per_channel=_sorted_items(channels, channel_label, {UNKNOWN}),
        time_to_accept=time_to_accept,
        open_total=open_total, open_unassigned=unassigned, open_per_unit=per_unit, open_per_worker=per_worker,
    )


def _timing(session: Session, urgency_of: dict[int, str], created: dict[int, datetime], lang: str) -> list[Timing]:
    """Per urgency: seconds from the report to the first accepted assignment of each report."""
    first_accept: dict[int, datetime] = {}
    ids = list(urgency_of)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        first_accept.update(session.exec(
            select(Assignment.intake_id, func.min(Assignment.responded_at))
            .where(col(Assignment.intake_id).in_(chunk), col(Assignment.status).in_(ACCEPTED_STATES),
                   col(Assignment.responded_at).is_not(None))
            .group_by(Assignment.intake_id)
        ).all())
    waits: dict[str, list[float]] = defaultdict(list)
    totals: Counter = Counter(urgency_of.values())
    for intake_id, accepted_at in first_accept.items():
        if accepted_at is None:
            continue
        seconds = (as_utc(accepted_at) - created[intake_id]).total_seconds()
        waits[urgency_of[intake_id]].append(max(seconds, 0.0))
    out = []
    for urgency in URGENCIES:
        values, target = waits.get(urgency, []), TARGET_SECONDS.get(urgency)
        out.append(Timing(
            urgency=urgency, label=urgency_label(urgency, lang), total=totals.get(urgency, 0), accepted=len(values),
            median_s=percentile(values, 50), p90_s=percentile(values, 90), target_s=target,
            within_target=None if target is None else sum(1 for v in values if v <= target),
        ))
    return out


def _open_caseload(session: Session, t) -> tuple[int, int, list[Item], list[Item]]:
    """Open reports now: per covering unit, and per worker holding a live offer or acceptance."""
    per_kabkota = session.exec(
        select(Intake.kabkota_kode, func.count()).where(Intake.status == "open").group_by(Intake.kabkota_kode)
    ).all()
    open_total = sum(n for _, n in per_kabkota)
    unit_of_prov: dict[str, str] = {}
    for unit_kode, prov in session.exec(select(UnitArea.unit_kode, UnitArea.provinsi_kode)
                                        .order_by(UnitArea.unit_kode)).all():
        unit_of_prov.setdefault(prov, unit_kode)  # a province served by two units counts for the first by code
    unit_names = dict(session.exec(select(Unit.kode, Unit.nama)).all())
    units: Counter = Counter()
    for kabkota, n in per_kabkota:
        units[unit_of_prov.get(provinsi_kode(kabkota) or "", UNKNOWN)] += n
    per_unit = _sorted_items(units, lambda k: t("dasbor:no_unit") if k == UNKNOWN else unit_names.get(k, k), {UNKNOWN})

    live = session.exec(
        select(Assignment.worker_id, Assignment.status, func.count())
        .join(Intake, Intake.id == Assignment.intake_id)
        .where(Intake.status == "open", col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))
        .group_by(Assignment.worker_id, Assignment.status)
    ).all()
    by_worker: dict[int, dict[str, int]] = defaultdict(lambda: {"offered": 0, "accepted": 0})
    for worker_id, status, n in live:
        by_worker[worker_id][status] += n
    workers = {w.id: w for w in session.exec(select(Worker).where(col(Worker.id).in_(list(by_worker) or [-1])))}
    per_worker = []
    for worker_id, counts in by_worker.items():
        worker = workers.get(worker_id)
        kode = worker.kode if worker else f"#{worker_id}"
        per_worker.append(Item(kode, kode, counts["offered"] + counts["accepted"],
                               {**counts, "kapasitas": worker.kapasitas if worker else 0}))
    per_worker.sort(key=lambda i: (-i.value, i.key))
    assigned = sum(i.value for i in per_worker)
    return open_total, max(open_total - assigned, 0), per_unit, per_worker


# --- presentation: month labels, charts, CSV -------------------------------------------------

def month_label(month: str, lang: str) -> str:
    names = translator(lang)("dasbor:months").split()
    year, m = month.split("-")
    return f"{names[int(m) - 1]} {year}" if len(names) == 12 else month


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


def month_series(fig: Figures) -> list[tuple[str, str, list[int]]]:
    """(key, label, counts per month) for the top categories, then 'lainnya' for the rest."""
    out = [(c, fig.category_labels[c], [fig.by_month_category[m].get(c, 0) for m in fig.months])
           for c in fig.top_categories]
    rest = [sum(n for c, n in fig.by_month_category[m].items() if c not in fig.top_categories) for m in fig.months]
    if any(rest):
        out.append((OTHER, fig.category_labels[OTHER], rest))
    return out


def trends(fig: Figures, lang: str) -> list[str]:
    """'ABH: 3 pada Jun 2025 → 5 pada Agu 2025 (naik 67%)' for each top category."""
    t = translator(lang)
    if len(fig.months) < 2 or not fig.total:
        return []
    first_m, last_m = fig.months[0], fig.months[-1]
    out = []
    for _key, label, values in month_series(fig):
        first, last = values[0], values[-1]
        if first == last:
            change = t("dasbor:trend_same")
        elif first == 0:
            change = t("dasbor:trend_new")
        else:
            pct = f"{abs(round(100 * (last - first) / first))}%"
            change = t("dasbor:trend_up" if last > first else "dasbor:trend_down", pct=pct)
        out.append(t("dasbor:trend_line", label=label, first=first, last=last, first_month=month_label(first_m, lang),
                     last_month=month_label(last_m, lang)) + f" ({change})")
    return out


def charts_for(fig: Figures, lang: str) -> dict[str, Markup]:
    """The page's inline SVG charts (escaped by tepsa.console.charts, hence Markup)."""
    t = translator(lang)
    empty, empty_now = t("dasbor:empty"), t("dasbor:empty_now")
    months = [month_label(m, lang) for m in fig.months]
    series = [charts.Series(k, label, values) for k, label, values in month_series(fig)]
    out = {
        "per_month_category": charts.stacked_month_chart(
            months, series, t("dasbor:fig_per_month_category"),
            t("dasbor:fig_per_month_category_desc", n=TOP_CATEGORIES), empty_text=empty,
            total_label=t("dasbor:total")),
        "per_province": charts.hbar_chart(
            [charts.Bar(i.label, i.value) for i in fig.per_province], t("dasbor:fig_per_province"),
            t("dasbor:fig_per_province_desc"), empty_text=empty, width=520, label_width=170),
        "per_channel": charts.hbar_chart(
            [charts.Bar(i.label, i.value) for i in fig.per_channel], t("dasbor:fig_per_channel"),
            t("dasbor:fig_per_channel_desc"), empty_text=empty, width=520, label_width=170, colour=charts.PALETTE[2]),
        "open_per_unit": charts.hbar_chart(
            [charts.Bar(i.label.split(" (")[0], i.value) for i in fig.open_per_unit], t("dasbor:fig_open_per_unit"),
            t("dasbor:fig_open_per_unit_desc"), empty_text=empty_now, width=520, label_width=190,
            colour=charts.PALETTE[5]),
        "open_per_worker": charts.hbar_chart(
            [charts.Bar(i.label, i.value, note=t("dasbor:worker_note", **i.extra))
             for i in fig.open_per_worker[:MAX_WORKER_BARS]]
            + ([charts.Bar(t("dasbor:unassigned"), fig.open_unassigned)] if fig.open_unassigned else []),
            t("dasbor:fig_open_per_worker"), t("dasbor:fig_open_per_worker_desc"), empty_text=empty_now,
            width=560, label_width=150, colour=charts.PALETTE[3]),
    }
    rows = []
    for r in fig.time_to_accept:
        note = t("dasbor:timing_note", accepted=r.accepted, total=r.total)
        if r.within_target is not None and r.accepted:
            note += " · " + t("dasbor:timing_within", pct=_pct(r.within_target, r.accepted))
        rows.append(charts.TimingRow(
            label=r.label, n=r.accepted, median=r.median_s, p90=r.p90_s, target=r.target_s,
            median_label=duration(r.median_s, lang), p90_label=duration(r.p90_s, lang),
            target_label=duration(r.target_s, lang), note=note, colour=URGENCY_COLOURS.get(r.urgency)))
    out["time_to_accept"] = charts.timing_chart(
        rows, t("dasbor:fig_time_to_accept"), t("dasbor:fig_time_to_accept_desc"), empty_text=empty,
        texts=charts.TimingTexts(median=t("dasbor:median"), p90=t("dasbor:p90"), target=t("dasbor:target"),
                                 no_target=t("dasbor:no_target"), none_accepted=t("dasbor:none_accepted")))
    return {k: Markup(v) for k, v in out.items()}  # noqa: S704 - built from escaped parts only


CSV_HEADER = ("figure", "period_from", "period_to", "month", "key", "label", "measure", "value")


def _cell(value: object) -> object:
    """No spreadsheet formulas from labels (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}"


def csv_rows(fig: Figures, figure: str | None = None) -> list[tuple]:
    """The figures as long rows: (figure, from, to, month, key, label, measure, value)."""
    p = (fig.period.dari, fig.period.sampai)
    rows: list[tuple] = []
    want = (lambda name: figure in (None, name))
    if want("per_month_category"):
        for m in fig.months:
            for code, n in sorted(fig.by_month_category[m].items(), key=lambda kv: (-kv[1], kv[0])):
                rows.append(("per_month_category", *p, m, code, fig.category_labels.get(code, code), "intakes", n))
    if want("per_province"):
        rows += [("per_province", *p, "", i.key, i.label, "intakes", i.value) for i in fig.per_province]
    if want("per_channel"):
        rows += [("per_channel", *p, "", i.key, i.label, "intakes", i.value) for i in fig.per_channel]
    if want("time_to_accept"):
        for r in fig.time_to_accept:
            for measure, value in (("intakes", r.total), ("accepted", r.accepted),
                                   ("median_hours", _hours(r.median_s)), ("p90_hours", _hours(r.p90_s)),
                                   ("target_hours", _hours(r.target_s)),
                                   ("within_target", "" if r.within_target is None else r.within_target)):
                rows.append(("time_to_accept", *p, "", r.urgency, r.label, measure, value))
    if want("open_per_unit"):
        rows += [("open_per_unit", *p, "", i.key, i.label, "open_intakes", i.value) for i in fig.open_per_unit]
        rows.append(("open_per_unit", *p, "", "*", "total", "open_intakes", fig.open_total))
    if want("open_per_worker"):
        for i in fig.open_per_worker:
            rows += [("open_per_worker", *p, "", i.key, i.label, "open_intakes", i.value),
                     ("open_per_worker", *p, "", i.key, i.label, "accepted", i.extra["accepted"]),
                     ("open_per_worker", *p, "", i.key, i.label, "offered", i.extra["offered"]),
                     ("open_per_worker", *p, "", i.key, i.label, "capacity", i.extra["kapasitas"])]
        rows.append(("open_per_worker", *p, "", UNKNOWN, "unassigned", "open_intakes", fig.open_unassigned))
    return rows


def to_csv(rows: Sequence[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


# --- routes ----------------------------------------------------------------------------------

def _load(request: Request, user: Principal, fmt: str, figure: str | None = None):
    """Parse the period, compute the figures and record the read, in one transaction."""
    period, problems = parse_period(request.query_params.get("dari", "")[:16],
                                    request.query_params.get("sampai", "")[:16])
    lang = lang_of(request)

    def run() -> Figures:
        with Session(request.app.state.engine) as session:
            fig = compute_figures(session, period, lang)
            record(session, actor=user.username, role=user.role,
                   address=client_address(request), action="read_dashboard",
                   detail={"via": "console", "format": fmt, "dari": period.dari, "sampai": period.sampai,
                           **({"figure": figure} if figure else {})})
            session.commit()
            return fig

    return period, problems, lang, run


@router.get("/dasbor", response_class=HTMLResponse)
async def dashboard_page(request: Request, user: Principal = Depends(console_user("supervisor"))) -> HTMLResponse:
    period, problems, lang, run = _load(request, user, "html")
    fig = await run_in_threadpool(run)
    return render(request, "dashboard.html", user=user, fig=fig, period=period, problems=problems,
                  charts=charts_for(fig, lang), trends=trends(fig, lang),
                  first_label=month_label(period.dari, lang), last_label=month_label(period.sampai, lang),
                  accepted=sum(r.accepted for r in fig.time_to_accept), pct=_pct, figures=FIGURES, max_months=MAX_MONTHS)


@router.get("/dasbor.csv")
async def dashboard_csv(request: Request, user: Principal = Depends(console_user("supervisor"))) -> Response:
    figure = request.query_params.get("figure") or None
    if figure is not None and figure not in FIGURES:
        raise HTTPException(400, f"unknown figure; one of: {', '.join(FIGURES)}")
    period, _problems, _lang, run = _load(request, user, "csv", figure)
    fig = await run_in_threadpool(run)
    name = f"tepsa-dasbor-{period.dari}_{period.sampai}{'-' + figure if figure else ''}.csv"
    # A byte-order mark so that spreadsheet programs read the file as UTF-8.
    body = "\ufeff" + to_csv(csv_rows(fig, figure))
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
