"""The FastAPI application: wiring only (routes live in their domains)."""

from __future__ import annotations

import asyncio
import time
import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from tepsa import __version__
from tepsa.api.health import router as health_router
from tepsa.audit.routes import router as audit_router
from tepsa.console.admin import router as console_admin_router
from tepsa.console.dashboard import router as console_dashboard_router
from tepsa.console.intake_page import router as console_intake_router
from tepsa.console.queue import router as console_queue_router
from tepsa.console.routes import router as console_router
from tepsa.privacy.routes import router as privacy_router
from tepsa.auth.routes import router as auth_router
from tepsa.auth.service import ensure_secret_key
from tepsa.bootstrap import configure_runtime, prepare_database
from tepsa.assignment.actions import handle_undeliverable
from tepsa.assignment.routes import router as worker_router
from tepsa.assignment.scheduler import Scheduler
from tepsa.channels.telegram import TelegramBot
from tepsa.channels.telegram import router as telegram_router
from tepsa.channels.voice import router as voice_router
from tepsa.channels.whatsapp import router as whatsapp_router
from tepsa.config import Settings, get_settings
from tepsa.db import make_engine
from tepsa.intake.routes import router as intake_router
from tepsa.auth.deps import public
from tepsa.logs import AccessLogMiddleware
from tepsa.security import BodySizeLimit, SecurityHeaders
from tepsa.conversation.inbox_worker import InboxWorker
from tepsa.notify.dispatcher import Dispatcher
from tepsa.triage.engine import triage
from tepsa.triage.routes import router as triage_router

log = logging.getLogger("tepsa.app")


def _senders(settings: Settings) -> list:
    senders = []
    if settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value():
        from tepsa.notify.telegram_sender import TelegramSender

        senders.append(TelegramSender(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url))
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if settings.twilio_account_sid and token:
        from tepsa.notify.whatsapp_sender import SmsSender, WhatsAppSender

        senders.append(WhatsAppSender(settings.twilio_account_sid, token, settings.whatsapp_from,
                                      settings.twilio_api_url, settings.whatsapp_template_sid))
        if settings.sms_from:
            senders.append(SmsSender(settings.twilio_account_sid, token, settings.sms_from, settings.twilio_api_url))
    return senders


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_runtime(settings)
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.migrate_on_start:
            await asyncio.to_thread(prepare_database, engine)
        # Build the gazetteer and rules now, so the first report is not the one that waits for them.
        await asyncio.to_thread(triage, ["anak di kec. tenayan raya pekanbaru"])
        app.state.secret_key = await asyncio.to_thread(
            ensure_secret_key, engine, settings.secret_key.get_secret_value() if settings.secret_key else None)
        configure_runtime(settings)  # again: another app in this process may have configured its own
        dispatcher = scheduler = bot = inbox_worker = None
        if settings.dispatcher_enabled:
            dispatcher = Dispatcher(engine, _senders(settings), settings.dispatcher_poll_seconds,
                                    settings.outbox_backoff_base_seconds, on_permanent_failure=handle_undeliverable)
            await dispatcher.start()
            app.state.dispatcher_wake = dispatcher.wake
            scheduler = Scheduler(engine, settings.scheduler_poll_seconds, after_fire=dispatcher.wake,
                                  retention_days=settings.retention_closed_days,
                                  retention_every_seconds=settings.retention_every_hours * 3600)
            await scheduler.start()
            inbox_worker = InboxWorker(engine, settings.conversation_idle_hours, settings.inbox_poll_seconds,
                                       after_work=dispatcher.wake,
                                       busy=lambda: time.monotonic() - app.state.whatsapp_last_at < 0.25,
                                       pace_seconds=settings.inbox_busy_pace_seconds)
            await inbox_worker.start()
            app.state.inbox_wake = inbox_worker.wake
        app.state.dispatcher = dispatcher
        if settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value():
            bot = TelegramBot(engine, settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url,
                              settings.public_base, app.state.secret_key, settings.detail_link_minutes,
                              wake=lambda: app.state.dispatcher_wake())
            await bot.start()
        app.state.telegram_bot = bot
        log.info("service ready")
        try:
            yield
        finally:
            watch = getattr(app.state, "queue_watch", None)
            if watch is not None:
                await watch.stop()
            if bot is not None:
                await bot.stop()
            if inbox_worker is not None:
                await inbox_worker.stop()
            if scheduler is not None:
                await scheduler.stop()
            if dispatcher is not None:
                await dispatcher.stop()
            engine.dispose()

    app = FastAPI(
        title="TepSA",
        version=__version__,
        description="Intake, triage and assignment for the child hotline TepSA 1500-771 (Kementerian Sosial RI).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.dispatcher_wake = lambda: None
    app.state.inbox_wake = lambda: None
    app.state.whatsapp_inflight = 0
    app.state.whatsapp_last_at = 0.0
    app.state.telegram_bot = None
    app.add_middleware(SecurityHeaders, https=settings.public_base.startswith("https://"))
    app.add_middleware(BodySizeLimit)
    app.add_middleware(AccessLogMiddleware)

    @app.exception_handler(DataError)
    async def unstorable_input(_request: Request, exc: Exception) -> JSONResponse:
        # e.g. a NUL byte, which PostgreSQL text cannot hold: the input is at fault, not the database.
        return JSONResponse({"detail": "input contains characters that cannot be stored"}, status_code=400)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # Twilio and Telegram retry on 5xx: say "try again" rather than answer without a write.
        log.error("database error", extra={"error_type": type(exc).__name__})
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503,
                            headers={"Retry-After": "5"})

    # Every route declares who may call it; tests/test_routes_permissions.py fails on one that does not.
    # Routes of the API routers declare require_role(...) themselves; these are open to callers without
    # a user token and say how they are protected instead.
    app.include_router(health_router, dependencies=[Depends(public("health and metrics for load balancers"))])
    app.include_router(auth_router, dependencies=[Depends(public("sign-in form, rate limited by argon2 cost"))])
    app.include_router(intake_router)
    app.include_router(audit_router)
    app.include_router(privacy_router)
    for router in (console_router, console_queue_router, console_intake_router, console_dashboard_router,
                   console_admin_router):
        app.include_router(router)
    app.include_router(triage_router)
    for router in (whatsapp_router, voice_router):
        app.include_router(router, dependencies=[Depends(public("Twilio signature checked"))])
    app.include_router(telegram_router, dependencies=[Depends(public("Telegram secret header checked"))])
    app.include_router(worker_router, dependencies=[Depends(public("signed 15-minute link checked"))])

    return app
