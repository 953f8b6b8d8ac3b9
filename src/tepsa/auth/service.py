"""Users, password hashing (argon2) and bearer tokens (JWT, HS256)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tepsa.auth.models import ROLES, AppSecret, User
from tepsa.db import utcnow

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps timing uniform.
_DUMMY_HASH = _hasher.hash("tepsa-no-such-user")
TOKEN_ALGORITHM = "HS256"


class AuthError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, role: str, password: str) -> User:
    username = username.strip()
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise AuthError("username must be 1 to 64 characters")
    if len(password) < 8:
        raise AuthError("password must be at least 8 characters")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise AuthError(f"user {username!r} already exists")
    user = User(username=username, role=role, password_hash=hash_password(password))
    session.add(user)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    username = username.replace("\x00", "")  # PostgreSQL text cannot hold NUL; no username has one
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def ensure_secret_key(engine: Engine, configured: str | None) -> str:
    """TEPSA_SECRET_KEY when set; otherwise one generated on first run and kept in the database."""
    if configured:
        return configured
    with Session(engine) as session:
        row = session.get(AppSecret, "secret_key")
        if row is not None:
            return row.value
        session.add(AppSecret(name="secret_key", value=secrets.token_urlsafe(48)))
        try:
            session.commit()
        except IntegrityError:  # another instance generated it first
            session.rollback()
        return session.get(AppSecret, "secret_key").value


def issue_token(user: User, key: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": user.username, "role": user.role, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM)


def read_token(token: str, key: str) -> dict:
    try:
        return jwt.decode(token, key, algorithms=[TOKEN_ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as exc:
        raise AuthError("invalid or expired token") from exc


BLOCKED = "blocked"


def sign_in(session: Session, username: str, password: str, address: str, via: str) -> User | str | None:
    """Check a sign-in under the failure limit and audit it; the caller commits.

    Returns the user, None for wrong credentials, or BLOCKED after too many failures.
    """
    from tepsa.audit.service import note_failure, record, sign_in_blocked

    if sign_in_blocked(session, username, address):
        return BLOCKED
    user = authenticate(session, username, password)
    if user is None:
        note_failure(session, username, address)
    record(session, actor=username[:64], role=user.role if user else "-", address=address,
           action="sign_in" if user else "sign_in_failed", detail={"via": via})
    return user
