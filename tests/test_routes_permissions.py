"""Deny by default: every route must declare who may call it, and the HTTP hardening holds."""

from __future__ import annotations

from fastapi.routing import APIRoute

from tepsa.auth.deps import PERMISSION_ATTR

# Framework pages that carry no data.
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _permissions(dependant) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        marker = getattr(dep.call, PERMISSION_ATTR, None)
        if marker:
            found.add(marker)
        found |= _permissions(dep)
    return found


def all_routes(app):
    """(methods, path, dependant) of every route, including those of included routers."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.methods, route.path, route.dependant
        elif hasattr(route, "effective_route_contexts"):  # FastAPI's lazily included routers
            for ctx in route.effective_route_contexts():
                yield ctx.methods, ctx.path, ctx.dependant
        else:
            assert route.path in FRAMEWORK_ROUTES, f"unexpected route {route.path}"
            yield None, route.path, None


def test_every_route_declares_a_permission(settings):
    from tepsa.app import create_app

    undeclared, seen = [], 0
    for methods, path, dependant in all_routes(create_app(settings)):
        if dependant is None:
            continue
        seen += 1
        if not _permissions(dependant):
            undeclared.append(f"{sorted(methods or [])} {path}")
    assert seen >= 15
    assert undeclared == [], f"routes without a declared permission: {undeclared}"


def test_api_routes_need_a_role(settings):
    from tepsa.app import create_app

    checked = 0
    for _methods, path, dependant in all_routes(create_app(settings)):
        if path.startswith("/api/v1/") and path != "/api/v1/auth/token":
            checked += 1
            assert any(p.startswith("role:") for p in _permissions(dependant)), path
    assert checked >= 3


def test_security_headers_on_every_answer(client):
    for path in ("/", "/healthz", "/api/v1/intakes", "/no-such-page"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "max-age" in r.headers["strict-transport-security"]  # the test service is behind https


def test_bodies_over_one_megabyte_are_refused_with_413(client):
    big = b"Body=" + b"a" * (1024 * 1024 + 10)
    r = client.post("/webhooks/twilio/whatsapp", content=big,
                    headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert r.status_code == 413

    def chunks():
        for _ in range(20):
            yield b"a" * 100_000

    r = client.post("/api/v1/triage", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
