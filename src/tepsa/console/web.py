"""What every console page shares: templates, the language switch and rendering.

Pages are server-rendered (Jinja2) and enhanced with vendored htmx; texts come
from ``channels/console.yaml`` in Bahasa Indonesia (default) or English.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tepsa.console.session import csrf_token, set_csrf_cookie
from tepsa.db import as_utc, utcnow
from tepsa.texts import MissingText, text
from tepsa.vocab import CATEGORIES, URGENCIES, category_label, urgency_label

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
LANG_COOKIE = "tepsa_bahasa"
LANGS = ("id", "en")

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "id")
    return lang if lang in LANGS else "id"


def translator(lang: str):
    def t(key: str, **values: object) -> str:
        """``t("queue_title")`` reads channels/console.yaml; ``t("admin:title")`` channels/console_admin.yaml."""
        book = "console"
        if ":" in key:
            prefix, key = key.split(":", 1)
            book = f"console_{prefix}"
        try:
            return text(book, key, lang, **values)
        except MissingText:
            return key  # a missing text shows its key rather than breaking the page

    return t


def duration(seconds: float | None, lang: str = "id") -> str:
    """'3 mnt', '2 j 5 mnt', '4 h' - short enough for a queue row."""
    if seconds is None:
        return "-"
    s = int(abs(seconds))
    d, h, m = s // 86400, (s % 86400) // 3600, (s % 3600) // 60
    units = ("h", "j", "mnt") if lang == "id" else ("d", "h", "min")
    if d:
        out = f"{d} {units[0]}" + (f" {h} {units[1]}" if h else "")
    elif h:
        out = f"{h} {units[1]}" + (f" {m} {units[2]}" if m else "")
    else:
        out = f"{m} {units[2]}"
    return ("-" if seconds < 0 else "") + out


def age_of(moment: datetime | None, lang: str = "id") -> str:
    if moment is None:
        return "-"
    return duration((utcnow() - as_utc(moment)).total_seconds(), lang)


def wib(moment: datetime | None) -> str:
    """A timestamp as the hotline in Jakarta reads it (WIB, UTC+7)."""
    if moment is None:
        return "-"
    from datetime import timedelta

    return as_utc(moment).astimezone(timezone(timedelta(hours=7))).strftime("%d/%m/%Y %H:%M WIB")


templates.env.globals.update(URGENCIES=URGENCIES, CATEGORIES=CATEGORIES)
templates.env.filters.update(wib=wib)


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render a console page with the user, CSRF token and texts in the reader's language."""
    lang = lang_of(request)
    context.setdefault("user", None)
    context.update(
        csrf=csrf_token(request), lang=lang, t=translator(lang),
        urgency_label=lambda code: urgency_label(code, lang),
        category_label=lambda code: category_label(code, lang),
        age_of=lambda moment: age_of(moment, lang), duration=lambda s: duration(s, lang),
        path=request.url.path,
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
