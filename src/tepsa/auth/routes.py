"""POST /api/v1/auth/token (OAuth2 password form)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlmodel import Session

from tepsa.auth.service import BLOCKED, issue_token, sign_in

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", response_model=Token)
async def token(request: Request, form: OAuth2PasswordRequestForm = Depends()) -> Token:
    address = request.client.host if request.client else "unknown"

    def check():
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            user = sign_in(session, form.username, form.password, address, "api")
            session.commit()
            return user

    user = await run_in_threadpool(check)
    if user == BLOCKED:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "Too many failed sign-ins; try again in a minute",
                            headers={"Retry-After": "60"})
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    settings = request.app.state.settings
    return Token(access_token=issue_token(user, request.app.state.secret_key, settings.access_token_minutes))
