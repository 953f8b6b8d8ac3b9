"""POST /api/v1/auth/token (OAuth2 password form)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlmodel import Session

from tepsa.auth.service import authenticate, issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", response_model=Token)
async def token(request: Request, form: OAuth2PasswordRequestForm = Depends()) -> Token:
    def check():
        with Session(request.app.state.engine) as session:
            return authenticate(session, form.username, form.password)

    user = await run_in_threadpool(check)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    settings = request.app.state.settings
    return Token(access_token=issue_token(user, request.app.state.secret_key, settings.access_token_minutes))
