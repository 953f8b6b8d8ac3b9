"""Users, password hashing (argon2) and bearer tokens (JWT, HS256)."""

from __future__ import annotations

import re
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


# --- Administration of console users (the console's /admin/pengguna page) ---------------------------

MIN_ADMIN_PASSWORD = 12
"""Passwords set by an administrator (new users, resets) are at least this long."""
MAX_PASSWORD = 200
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class UserChangeRefused(AuthError):
    """A refused administration change; ``code`` names the console text that explains it."""

    def __init__(self, code: str, **values: object):
        self.code = code
        self.values = values
        super().__init__(code)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)))


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.replace("\x00", ""))).first()
    if user is None:
        raise UserChangeRefused("err_no_user")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_ADMIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise UserChangeRefused("err_password_length", n=MIN_ADMIN_PASSWORD)
    if not password.strip():
        raise UserChangeRefused("err_password_length", n=MIN_ADMIN_PASSWORD)


def add_user(session: Session, username: str, role: str, password: str) -> User:
    """A new console user created by an administrator (stricter than ``create_user``); the caller commits."""
    username = username.strip()
    if not _USERNAME.fullmatch(username):
        raise UserChangeRefused("err_username")
    if role not in ROLES:
        raise UserChangeRefused("err_role")
    _check_password(password)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise UserChangeRefused("err_user_exists")
    return create_user(session, username, role, password)


def change_role(session: Session, actor: str, username: str, role: str) -> tuple[str, str]:
    """Give ``username`` another role; an administrator cannot demote themselves. Returns (before, after)."""
    if role not in ROLES:
        raise UserChangeRefused("err_role")
    user = _user(session, username)
    if user.username == actor and role != "admin":
        raise UserChangeRefused("err_self_demote")
    before = user.role
    user.role = role
    session.add(user)
    return before, role


def set_user_active(session: Session, actor: str, username: str, active: bool) -> bool:
    """Deactivate (no sign-in) or reactivate a user; nobody deactivates themselves. Returns the previous state."""
    user = _user(session, username)
    if user.username == actor and not active:
        raise UserChangeRefused("err_self_deactivate")
    before = user.active
    user.active = active
    session.add(user)
    return before


def reset_password(session: Session, username: str, password: str) -> None:
    """Set a new password chosen by an administrator; the caller commits."""
    _check_password(password)
    user = _user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)


def is_active_role(session: Session, username: str, role: str) -> bool:
    """True when ``username`` exists, is active and still holds ``role`` (a session may outlive a change)."""
    user = session.exec(select(User).where(User.username == username.replace("\x00", ""))).first()
    return user is not None and user.active and user.role == role
