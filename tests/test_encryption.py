"""Personal data at rest: ciphertext in the database, lookups by keyed hash, key rotation."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tepsa import crypto
from tepsa.intake.models import InboundMessage, Intake
from tests.conftest import post_twilio, whatsapp_params

BODY = "anak tetangga sy dipukuli bapaknya di kec. Tenayan Raya pekanbaru"
PHONE = "+6281344455566"


def test_texts_and_numbers_are_ciphertext_in_the_database(client, engine):
    post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params(BODY, "SM" + "e" * 32, phone=PHONE))
    post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params("umur 7 th", "SM" + "f" * 32, phone=PHONE))
    with engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text(
            "SELECT m.body, m.from_phone, m.payload, i.reporter_phone, i.triage_reasons "
            "FROM inbound_message m JOIN intake i ON i.id = m.intake_id")) for v in row)
        timeline = " ".join(r[0] for r in conn.execute(text("SELECT data FROM timeline_event")))
    for secret in ("dipukuli", "Tenayan", "81344455566", "umur 7"):
        assert secret not in raw and secret not in timeline
    assert raw.count(crypto.PREFIX) >= 8
    with Session(engine) as s:  # through the models everything reads back as written
        intake = s.exec(select(Intake)).one()
        assert intake.reporter_phone == PHONE
        assert intake.reporter_phone_hash == crypto.phone_hash(PHONE) and PHONE not in intake.reporter_phone_hash
        assert [m.body for m in s.exec(select(InboundMessage).order_by(InboundMessage.id))] == [BODY, "umur 7 th"]


def test_a_changed_ciphertext_fails_authentication():
    keys = crypto.DataKeys.generate()
    sealed = keys.encrypt("rahasia anak")
    assert keys.decrypt(sealed) == "rahasia anak"
    head, blob = sealed.rsplit(":", 1)
    flipped = blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1]
    with pytest.raises(crypto.KeyError_):
        keys.decrypt(f"{head}:{flipped}")
    with pytest.raises(crypto.KeyError_):
        crypto.DataKeys.generate().decrypt(sealed)  # another key cannot read it


def test_the_key_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "data.key"
    first = crypto.load_keys(None, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.load_keys(None, path) == first
    with pytest.raises(crypto.KeyError_):
        crypto.load_keys(None, tmp_path / "missing.key", create=False)


def test_keys_rotate_re_encrypts_everything_and_old_values_stay_readable(tmp_path, monkeypatch):
    from tepsa import cli
    from tepsa.db import make_engine
    from tepsa.intake.service import IncomingMessage, receive_message

    key_file = tmp_path / "data.key"
    db = f"sqlite:///{tmp_path / 'rotate.db'}"
    monkeypatch.setenv("TEPSA_DATABASE_URL", db)
    monkeypatch.setenv("TEPSA_DATA_KEY_FILE", str(key_file))
    monkeypatch.delenv("TEPSA_DATA_KEYS", raising=False)
    cli.get_settings.cache_clear()
    saved = crypto.current()
    try:
        assert cli.main(["migrate"]) == 0
        old = crypto.current()
        engine = make_engine(db)
        with Session(engine) as s:
            receive_message(s, IncomingMessage(channel="whatsapp", provider_sid="SMrotate", from_phone=PHONE, body=BODY))
            s.commit()
        assert cli.main(["keys", "rotate"]) == 0
        new = crypto.DataKeys.from_json(key_file.read_text())
        assert new.current_id != old.current_id and old.current_id in dict(new.keys)
        with engine.connect() as conn:
            body, phone = conn.execute(text("SELECT body, from_phone FROM inbound_message")).one()
        assert new.key_id_of(body) == new.current_id == new.key_id_of(phone)
        with Session(engine) as s:
            assert s.exec(select(InboundMessage)).one().body == BODY
        engine.dispose()
    finally:
        cli.get_settings.cache_clear()
        crypto.configure(saved)
