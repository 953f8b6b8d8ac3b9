"""Schemathesis against the service's own OpenAPI schema: no generated request may get a 5xx.

Every operation in /openapi.json is fuzzed in-process (ASGI, no server) on both database backends
through the shared ``client``/``engine`` fixtures, as a signed-in admin so the data endpoints are
exercised past authentication. The webhooks check Twilio signatures or the Telegram secret header,
so fuzzed requests to them are refused (403/503 before any work); they must still never be 5xx
from a crash. Examples per operation are bounded and the run is derandomized, so CI sees the same
inputs every time.
"""

from __future__ import annotations

import io

import pytest
import requests
import schemathesis
import urllib3
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.core.failures import FailureGroup, ServerError
from sqlmodel import Session

from tepsa.app import create_app
from tepsa.auth.service import create_user
from tepsa.config import Settings
from tests.conftest import PUBLIC_URL

MAX_EXAMPLES = 25
ADMIN = ("schemathesis-admin", "kata-sandi-schemathesis-0123")

# The schema is what the application serves at /openapi.json (test_served_schema_is_the_fuzzed_one
# holds that); building it needs no database and no lifespan, so it can be done at import time.
RAW_SCHEMA = create_app(Settings(_env_file=None, database_url="sqlite://",
                                 secret_key="schema-only-secret-key-0123456789abcdef")).openapi()
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)

# "No 5xx" is the requirement; the documented response bodies, content types and headers must
# also match where the schema says something about them. Status-code conformance is not checked:
# FastAPI does not document the 401/403/404/405/413/503 answers the service gives on purpose.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, response_headers_conformance]

# Known gaps in the schema's documentation (not crashes): checks left out for those operations.
EXCLUDED_CHECKS: dict[str, list] = {}

# Known 5xx, per (operation, database dialect): the case is marked xfail if it fails with server
# errors only, so the suite stays green until the cause is fixed. Remove an entry once fixed.
KNOWN_SERVER_ERRORS: dict[tuple[str, str], str] = {}


@pytest.fixture
def admin_token(client, engine) -> str:
    with Session(engine) as s:
        create_user(s, ADMIN[0], "admin", ADMIN[1])
        s.commit()
    r = client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


class _TestClientAdapter(requests.adapters.HTTPAdapter):
    """Hands requests.Session traffic to the fixture's TestClient, whose app lifespan already runs.

    Schemathesis sends (and, for some checks, re-sends) cases through a requests.Session; this keeps
    every one of them in-process and on the app under test. (Loading the schema with
    ``schemathesis.openapi.from_asgi`` would make Schemathesis start a second lifespan of the same
    app, with its own dispatcher and Telegram poller, that lives until the interpreter exits.)
    """

    def __init__(self, client) -> None:
        super().__init__()
        self.client = client

    def send(self, request, *args, **kwargs):
        r = self.client.request(request.method, request.url, headers=dict(request.headers),
                                content=request.body or b"", follow_redirects=False)
        raw = urllib3.HTTPResponse(body=io.BytesIO(r.content), headers=list(r.headers.multi_items()),
                                   status=r.status_code, reason=r.reason_phrase, version=11,
                                   preload_content=False, decode_content=False)
        return self.build_response(request, raw)


@pytest.fixture
def app_session(client):
    session = requests.Session()
    adapter = _TestClientAdapter(client)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    yield session
    session.close()


class KnownServerError(Exception):
    """A 5xx listed in KNOWN_SERVER_ERRORS: the case is expected to fail until the cause is fixed."""


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_server_error(case, request, engine, app_session, admin_token):
    label = case.operation.label
    known = KNOWN_SERVER_ERRORS.get((label, engine.dialect.name))
    if known:
        request.applymarker(pytest.mark.xfail(raises=KnownServerError, strict=False, reason=known))
    try:
        case.call_and_validate(base_url=PUBLIC_URL, session=app_session,
                               headers={"Authorization": f"Bearer {admin_token}"},
                               checks=CHECKS, excluded_checks=EXCLUDED_CHECKS.get(label, []))
    except FailureGroup as exc:
        if known and all(isinstance(f, ServerError) for f in exc.exceptions):
            raise KnownServerError(f"{known}\n{exc}") from exc
        raise


def test_served_schema_is_the_fuzzed_one(client):
    """The fuzzed schema is the one /openapi.json serves, and it has the operations we expect."""
    assert client.get("/openapi.json").json() == RAW_SCHEMA
    operations = [op for path in RAW_SCHEMA["paths"].values() for op in path]
    assert len(operations) >= 18


# Inputs found while reviewing the fuzz run (PostgreSQL text cannot hold NUL; they once answered 503);
# Schemathesis does not reliably reach them within MAX_EXAMPLES, so they are tested directly.
NUL_INPUTS = {
    "audit-actor": ("GET", "/api/v1/audit", {"params": {"actor": "\x00"}}),
    "token-username": ("POST", "/api/v1/auth/token", {"data": {"username": "\x00", "password": "x"}}),
}


@pytest.mark.parametrize("name", list(NUL_INPUTS))
def test_nul_byte_in_text_input_is_not_a_server_error(name, client, engine, admin_token):
    method, path, kwargs = NUL_INPUTS[name]
    r = client.request(method, path, headers={"Authorization": f"Bearer {admin_token}"}, **kwargs)
    assert r.status_code < 500, (r.status_code, r.text)
    assert r.status_code in (200, 401, 422)
