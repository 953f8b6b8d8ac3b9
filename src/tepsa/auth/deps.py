"""FastAPI dependencies: who is calling, and may they."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from tepsa.auth.service import AuthError, read_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

ROLE_RANK = {"operator": 0, "supervisor": 1, "admin": 2}


@dataclass(frozen=True)
class Principal:
    username: str
    role: str


def current_principal(request: Request, token: str | None = Depends(oauth2_scheme)) -> Principal:
    unauthorized = HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated",
                                 headers={"WWW-Authenticate": "Bearer"})
    if not token:
        raise unauthorized
    try:
        claims = read_token(token, request.app.state.secret_key)
    except AuthError:
        raise unauthorized from None
    role = claims.get("role")
    if role not in ROLE_RANK:
        raise unauthorized
    return Principal(username=claims["sub"], role=role)


def client_address(request: Request) -> str | None:
    """The caller's address for the audit trail (the proxy's view when behind one)."""
    return request.client.host if request.client else None


PERMISSION_ATTR = "__tepsa_permission__"


def require_role(minimum: str):
    """Roles are ordered operator < supervisor < admin; a higher role may do what a lower may."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if ROLE_RANK[principal.role] < ROLE_RANK[minimum]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Insufficient role")
        return principal

    setattr(dependency, PERMISSION_ATTR, f"role:{minimum}")
    return dependency


def public(why: str):
    """Declares a route open to callers without a user token, and why (checked by a test).

    Webhooks are 'public' to users but check their provider's signature or
    secret; the worker page checks its signed one-time link.
    """

    def dependency() -> None:
        return None

    setattr(dependency, PERMISSION_ATTR, f"public:{why}")
    return dependency
