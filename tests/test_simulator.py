"""The simulator drives the real webhooks (signed) and reads their TwiML answers."""

from __future__ import annotations

from sqlmodel import Session, select

from tepsa.channels.simulator import Simulator
from tepsa.intake.models import Intake
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN


def test_whatsapp_through_the_simulator_is_one_intake(client, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    sim = Simulator(PUBLIC_URL, TWILIO_TOKEN, phone="+6281200000555", client=client)
    first = sim.whatsapp("tolong anak tetangga sy dipukulin bapaknya")
    assert "Di mana anak berada" in first[0]
    second = sim.whatsapp("", lat=0.5337, lon=101.5351)
    assert second and "umur" in second[0]
    status = sim.whatsapp("STATUS")
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
    assert intake.reference in first[0] and intake.reference in status[0]
    assert intake.kabkota_kode == "14.71"


def test_a_simulator_with_the_wrong_token_is_refused(client, engine):
    import httpx
    import pytest

    sim = Simulator(PUBLIC_URL, "not-the-token", client=client)
    with pytest.raises(httpx.HTTPStatusError) as err:
        sim.whatsapp("halo")
    assert err.value.response.status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Intake)).first() is None


def test_a_call_through_the_simulator_hears_its_reference(client, engine):
    sim = Simulator(PUBLIC_URL, TWILIO_TOKEN, phone="+6281200000556", client=client)
    menu = sim.call()
    assert menu.gather_action and menu.said
    prompt = sim.answer(menu, digits="2")
    assert prompt.gather_action and "speech" in prompt.gather_input
    done = sim.answer(prompt, speech="anak tetangga saya dipukuli bapaknya sekarang di kecamatan padang utara kota padang")
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
    assert intake.kabkota_kode == "13.71" and intake.channel == "voice"
    assert len(done.said) >= 2
    sim.hang_up(90)
