"""Console sign-in: a signed session cookie (HttpOnly, SameSite, Secure behind https) and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

import jwt
from fastapi import Depends, HTTPException, Request, Response, status

from tepsa.auth.deps import PERMISSION_ATTR, ROLE_RANK, Principal
from tepsa.db import utcnow

SESSION_COOKIE = "tepsa_sesi"
CSRF_COOKIE = "tepsa_csrf"
AUDIENCE = "tepsa-console"


def start_session(response: Response, request: Request, username: str, role: str) -> None:
    settings = request.app.state.settings
    token = jwt.encode({"sub": username, "role": role, "aud": AUDIENCE,
                        "exp": utcnow() + timedelta(minutes=settings.access_token_minutes)},
                       request.app.state.secret_key, algorithm="HS256")
    secure = settings.public_base.startswith("https://")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure,
                        max_age=settings.access_token_minutes * 60, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request, response: Response | None = None) -> str:
    """The form token: the same random value in a cookie and in the form (double submit)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.app.state.settings.public_base.startswith("https://"), path="/")


def check_csrf(request: Request, form_token: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not form_token or not hmac.compare_digest(cookie, form_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong; reload the page")


def current_role(request: Request, username: str) -> str | None:
    """The user's role now (an admin's change takes effect at the next click), None when inactive."""
    from sqlmodel import Session, select

    from tepsa.auth.models import User

    with Session(request.app.state.engine) as session:
        row = session.exec(select(User.role, User.active).where(User.username == username)).first()
    return row[0] if row is not None and row[1] else None


def console_user(minimum: str):
    """A signed-in console user of at least ``minimum`` role; otherwise a redirect to sign in."""

    def dependency(request: Request) -> Principal:
        token = request.cookies.get(SESSION_COOKIE)
        try:
            claims = jwt.decode(token or "", request.app.state.secret_key, algorithms=["HS256"], audience=AUDIENCE)
        except jwt.PyJWTError:
            raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/masuk"}) from None
        role = current_role(request, claims.get("sub", ""))
        if role is None:  # deactivated or deleted since signing in
            raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/masuk"})
        if ROLE_RANK.get(role, -1) < ROLE_RANK[minimum]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Insufficient role")
        return Principal(claims["sub"], role)

    setattr(dependency, PERMISSION_ATTR, f"role:{minimum}")
    return dependency


ConsoleOperator = Depends(console_user("operator"))
