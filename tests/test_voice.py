"""The voice door (1500-771) over HTTP: signed Twilio IVR webhooks, on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment
from tepsa.conversation.models import VoiceCall
from tepsa.db import in_transaction
from tepsa.intake.models import Attachment, InboundMessage, Intake, TimelineEvent
from tests.conftest import PUBLIC_URL, ROSTER_HEADER, post_twilio

VOICE = "/webhooks/twilio/voice"
STATUS = "/webhooks/twilio/status"
RECORDING = "/webhooks/twilio/voice/recording"
CALL_SID = "CA" + "1" * 32
PHONE = "+6281200000001"
PADANG = "anak tetangga saya dipukuli bapaknya sekarang di kecamatan padang utara kota padang"


@pytest.fixture(autouse=True)
def _clean_voice_tables(engine):
    """Voice rows point at intakes: remove them so the next test can empty the shared tables."""
    yield
    with engine.begin() as conn:
        for table in ("attachment", "voice_call", "provider_event"):
            conn.execute(sql(f"DELETE FROM {table}"))


@pytest.fixture
def padang_roster(client, engine, tmp_path):
    from tepsa.cli import import_roster_file

    path = tmp_path / "padang.csv"
    path.write_text(ROSTER_HEADER + (
        "PDG-1,Petugas Padang,sakti_peksos,0812-0000-0011,2001,13.71,-0.9131,100.3580,1,kekerasan_fisik_psikis,10\n"
    ), encoding="utf-8")
    import_roster_file(engine, path)
    return path


def call_params(sid: str = CALL_SID, phone: str = PHONE, **extra: str) -> dict[str, str]:
    params = {
        "CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "Caller": phone, "To": "+62211500771",
        "Called": "+62211500771", "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


def local(url: str) -> str:
    """An absolute action URL from the TwiML -> the path (and query) to post to."""
    assert url.startswith(PUBLIC_URL + VOICE), url
    return url.removeprefix(PUBLIC_URL)


def says(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter("Say")]


def start_call(client, sid: str = CALL_SID) -> ET.Element:
    return twiml(post_twilio(client, VOICE, call_params(sid)))


def follow(client, url: str, sid: str = CALL_SID, **fields: str):
    return post_twilio(client, local(url), call_params(sid, **fields))


def menu_action(root: ET.Element) -> str:
    return root.find("Gather").get("action")


def intakes(engine) -> list[Intake]:
    with Session(engine) as s:
        return list(s.exec(select(Intake).order_by(Intake.id)))


def assert_reference_spelled_twice(root: ET.Element, reference: str) -> None:
    from tepsa.channels.voice import spell_reference

    groups = spell_reference(reference)
    texts = says(root)
    runs = [i for i in range(len(texts)) if texts[i:i + len(groups)] == groups]
    assert len(runs) == 2, texts
    # Pauses between the groups: read slowly.
    children = list(root)
    first = next(i for i, el in enumerate(children) if el.tag == "Say" and el.text == groups[0])
    assert children[first + 1].tag == "Pause"


def test_call_opens_with_greeting_and_an_indonesian_menu(client, engine):
    root = start_call(client)
    gather = root.find("Gather")
    assert gather.get("input") == "speech dtmf"
    assert gather.get("language") == "id-ID" and gather.get("numDigits") == "1"
    assert "darurat" in gather.get("hints") and "lapor" in gather.get("hints")
    assert gather.get("actionOnEmptyResult") == "true"
    assert local(gather.get("action")) == VOICE + "/menu?n=1"
    say = gather.find("Say")
    assert say.get("language") == "id-ID" and say.get("voice") == "Google.id-ID-Standard-A"
    assert "TepSA" in say.text and "tekan 1" in " ".join(says(root))
    # A retried first webhook keeps one call and opens no intake yet.
    start_call(client)
    with Session(engine) as s:
        assert len(list(s.exec(select(VoiceCall)))) == 1
        assert s.exec(select(Intake)).first() is None


def test_key_1_opens_a_darurat_intake_at_once_then_queues_first_and_falls_back_to_a_report(client, engine):
    root = start_call(client)
    answer = follow(client, menu_action(root), Digits="1")
    root = twiml(answer)
    # The case exists before any operator answers.
    [intake] = intakes(engine)
    assert (intake.channel, intake.urgency, intake.urgency_floor) == ("voice", "darurat", "darurat")
    assert intake.reporter_phone == PHONE
    with Session(engine) as s:
        call = s.exec(select(VoiceCall)).one()
        assert (call.intake_id, call.choice) == (intake.id, "darurat")
    enqueue = root.find("Enqueue")
    assert enqueue.text == "darurat"
    assert local(enqueue.get("waitUrl")) == VOICE + "/wait?q=darurat"
    assert local(enqueue.get("action")) == VOICE + "/queue?q=darurat"
    # Twilio retries the menu answer: still one intake.
    assert follow(client, menu_action(start_call(client)), Digits="1").text == answer.text
    assert len(intakes(engine)) == 1

    # Holding: a short message, then the caller leaves the queue after the configured wait.
    hold = twiml(follow(client, enqueue.get("waitUrl"), QueueTime="5", QueueSid="QU" + "0" * 32))
    assert hold.find("Say") is not None and hold.find("Pause") is not None and hold.find("Leave") is None
    wait = client.app.state.settings.voice_operator_wait_seconds
    leave = twiml(follow(client, enqueue.get("waitUrl"), QueueTime=str(wait)))
    assert leave.find("Leave") is not None

    # Nobody answered: the spoken report, on the same intake.
    fallback = twiml(follow(client, enqueue.get("action"), QueueResult="leave", QueueTime=str(wait)))
    gather = fallback.find("Gather")
    assert gather is not None and "speech" in gather.get("input") and gather.get("speechTimeout") == "auto"
    report = twiml(follow(client, gather.get("action"), SpeechResult=PADANG, Confidence="0.9"))
    [same] = intakes(engine)
    assert same.id == intake.id and same.urgency == "darurat" and same.kabkota_kode == "13.71"
    assert_reference_spelled_twice(report, same.reference)
    with Session(engine) as s:
        kinds = [e.kind for e in s.exec(select(TimelineEvent).where(TimelineEvent.intake_id == intake.id))]
    assert "call_queue" in kinds and "message" in kinds


def test_an_operator_conversation_ends_the_call(client, engine):
    root = start_call(client)
    enqueue = twiml(follow(client, menu_action(root), Digits="1")).find("Enqueue")
    done = twiml(follow(client, enqueue.get("action"), QueueResult="bridged", QueueTime="12"))
    assert done.find("Hangup") is not None and done.find("Gather") is None


def test_key_2_spoken_report_from_padang_is_located_assigned_and_its_reference_read_twice(
        client, engine, padang_roster):
    root = start_call(client)
    prompt = twiml(follow(client, menu_action(root), Digits="2"))
    gather = prompt.find("Gather")
    assert "speech" in gather.get("input") and gather.get("language") == "id-ID"
    assert gather.get("speechTimeout") == "auto"
    assert local(gather.get("action")) == VOICE + "/report?n=1"
    assert intakes(engine) == []  # nothing said yet, nothing to open
    assert "direkam" not in " ".join(says(prompt))  # recording is off by default

    answer = follow(client, gather.get("action"), SpeechResult=PADANG, Confidence="0.87")
    root = twiml(answer)
    [intake] = intakes(engine)
    assert (intake.channel, intake.kabkota_kode, intake.kecamatan_kode) == ("voice", "13.71", "13.71.04")
    assert intake.category == "kekerasan_fisik_psikis"
    assert_reference_spelled_twice(root, intake.reference)
    assert root.find("Hangup") is not None
    with Session(engine) as s:
        [message] = s.exec(select(InboundMessage)).all()
        assert (message.channel, message.provider_sid, message.body) == ("voice", f"{CALL_SID}:speech:1", PADANG)
        [assignment] = s.exec(select(Assignment)).all()
        assert assignment.intake_id == intake.id and assignment.status == "offered"
        assert assignment.candidates[0]["kode"] == "PDG-1"
        assert s.exec(select(VoiceCall)).one().intake_id == intake.id
    # Twilio retries the speech result: same answer, nothing new.
    assert follow(client, gather.get("action"), SpeechResult=PADANG, Confidence="0.87").text == answer.text
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == 1
        assert len(s.exec(select(Assignment)).all()) == 1


@pytest.mark.parametrize("speech", ["dua", "Dua.", "saya mau melapor", "lapor"])
def test_saying_dua_or_lapor_works_like_key_2(client, engine, speech):
    root = start_call(client)
    gather = twiml(follow(client, menu_action(root), SpeechResult=speech, Confidence="0.6")).find("Gather")
    assert local(gather.get("action")) == VOICE + "/report?n=1"
    assert gather.get("numDigits") == "1"  # a DTMF way out (0 = operator) stays open


@pytest.mark.parametrize("speech", ["satu", "darurat", "tolong", "bahaya sekali"])
def test_saying_a_danger_word_works_like_key_1(client, engine, speech):
    root = start_call(client)
    assert twiml(follow(client, menu_action(root), SpeechResult=speech)).find("Enqueue").text == "darurat"
    assert [i.urgency for i in intakes(engine)] == ["darurat"]


@pytest.mark.parametrize("answer", [{"Digits": "3"}, {"SpeechResult": "informasi"}, {"SpeechResult": "info"}])
def test_key_3_tells_what_tepsa_is_and_other_numbers_then_menu_or_goodbye(client, engine, answer):
    root = twiml(follow(client, menu_action(start_call(client)), **answer))
    spoken = " ".join(says(root))
    assert "112" in spoken and "129" in spoken and "24 jam" in spoken
    back = root.find("Gather")
    assert back is not None and back.get("input") == "speech dtmf"
    # Choosing again works; silence says goodbye.
    again = twiml(follow(client, back.get("action"), Digits="2"))
    assert local(again.find("Gather").get("action")) == VOICE + "/report?n=1"
    bye = twiml(follow(client, back.get("action")))
    assert bye.find("Hangup") is not None and bye.find("Enqueue") is None
    assert intakes(engine) == []


@pytest.mark.parametrize("first,second", [({}, {}), ({"Digits": "9"}, {"SpeechResult": "halo apa ini"})])
def test_no_or_wrong_input_repeats_the_menu_once_then_goes_to_an_operator(client, engine, first, second):
    root = start_call(client)
    repeat = twiml(follow(client, menu_action(root), **first))
    assert local(menu_action(repeat)) == VOICE + "/menu?n=2"
    assert "Maaf" in " ".join(says(repeat))
    operator = twiml(follow(client, menu_action(repeat), **second))
    assert operator.find("Enqueue").text == "operator"
    assert local(operator.find("Enqueue").get("action")) == VOICE + "/queue?q=operator"
    with Session(engine) as s:
        call = s.exec(select(VoiceCall)).one()
        assert (call.choice, call.menu_attempts) == ("operator", 2)


def test_empty_speech_asks_once_more_then_goes_to_an_operator(client, engine):
    prompt = twiml(follow(client, menu_action(start_call(client)), Digits="2"))
    again = twiml(follow(client, prompt.find("Gather").get("action")))
    assert local(again.find("Gather").get("action")) == VOICE + "/report?n=2"
    operator = twiml(follow(client, again.find("Gather").get("action"), SpeechResult=""))
    assert operator.find("Enqueue").text == "operator"
    # Pressing 0 during the report goes to an operator at once.
    pressed = twiml(follow(client, prompt.find("Gather").get("action"), Digits="0"))
    assert pressed.find("Enqueue").text == "operator"
    # Back from the queue with still nothing said: no endless loop.
    fallback = twiml(follow(client, operator.find("Enqueue").get("action"), QueueResult="leave"))
    once = twiml(follow(client, fallback.find("Gather").get("action")))
    last = twiml(follow(client, once.find("Gather").get("action")))
    assert last.find("Hangup") is not None and last.find("Enqueue") is None
    assert intakes(engine) == []


def test_status_callback_stores_status_and_duration_once(client, engine):
    follow(client, menu_action(start_call(client)), Digits="1")
    [intake] = intakes(engine)
    ringing = post_twilio(client, STATUS, call_params(CallStatus="ringing"))
    completed = post_twilio(client, STATUS, call_params(CallStatus="completed", CallDuration="95"))
    assert ringing.status_code == completed.status_code == 204 and completed.content == b""
    with Session(engine) as s:
        call = s.exec(select(VoiceCall)).one()
        assert (call.status, call.duration_s) == ("completed", 95) and call.ended_at is not None
        events = s.exec(select(TimelineEvent).where(TimelineEvent.kind == "call_status")).all()
        assert [e.intake_id for e in events] == [intake.id, intake.id]
    # Retried (and late, out-of-order) callbacks change nothing.
    assert post_twilio(client, STATUS, call_params(CallStatus="completed", CallDuration="95")).status_code == 204
    assert post_twilio(client, STATUS, call_params(CallStatus="ringing")).status_code == 204
    with Session(engine) as s:
        call = s.exec(select(VoiceCall)).one()
        assert (call.status, call.duration_s) == ("completed", 95)
        assert len(s.exec(select(TimelineEvent).where(TimelineEvent.kind == "call_status")).all()) == 2


def test_status_of_a_call_without_intake_is_still_recorded(client, engine):
    start_call(client, "CA" + "2" * 32)
    r = post_twilio(client, STATUS, call_params("CA" + "2" * 32, CallStatus="no-answer", CallDuration="0"))
    assert r.status_code == 204
    with Session(engine) as s:
        call = s.exec(select(VoiceCall)).one()
        assert (call.status, call.duration_s, call.intake_id) == ("no-answer", 0, None)


def test_recorded_report_keeps_one_attachment_by_reference(settings, engine, padang_roster):
    from fastapi.testclient import TestClient

    from tepsa.app import create_app

    recorded = settings.model_copy(update={"voice_recording_enabled": True})
    with TestClient(create_app(recorded), base_url=PUBLIC_URL) as c:
        prompt = twiml(follow(c, menu_action(start_call(c)), Digits="2"))
        spoken = " ".join(says(prompt))
        assert "direkam" in spoken  # the caller hears the notice before the report
        recording = prompt.find("Start/Recording")
        assert local(recording.get("recordingStatusCallback")) == RECORDING
        assert [el.tag for el in prompt].index("Say") < [el.tag for el in prompt].index("Start")
        twiml(follow(c, prompt.find("Gather").get("action"), SpeechResult=PADANG))
        fields = {"RecordingSid": "RE" + "a" * 32, "RecordingStatus": "completed", "RecordingDuration": "42",
                  "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE" + "a" * 32,
                  "RecordingChannels": "2", "RecordingSource": "StartCallRecordingTwiML"}
        first = post_twilio(c, RECORDING, call_params(**fields))
        retry = post_twilio(c, RECORDING, call_params(**fields))
        assert first.status_code == retry.status_code == 204
    [intake] = intakes(engine)
    with Session(engine) as s:
        [attachment] = s.exec(select(Attachment)).all()
        assert (attachment.intake_id, attachment.kind, attachment.duration_s) == (intake.id, "recording", 42)
        assert attachment.url == fields["RecordingUrl"] and attachment.provider_sid == fields["RecordingSid"]


def test_recording_notice_is_absent_and_recordings_ignored_when_recording_is_off(client, engine):
    follow(client, menu_action(start_call(client)), Digits="1")
    r = post_twilio(client, RECORDING, call_params(RecordingSid="RE" + "b" * 32, RecordingStatus="completed",
                                                   RecordingUrl="https://api.twilio.com/x", RecordingDuration="3"))
    assert r.status_code == 204
    with Session(engine) as s:
        assert s.exec(select(Attachment)).first() is None


PATHS = [VOICE, VOICE + "/menu?n=1", VOICE + "/wait?q=darurat", VOICE + "/queue?q=darurat",
         VOICE + "/report?n=1", RECORDING, STATUS]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("signature", [None, "not-a-signature"])
def test_unsigned_or_wrongly_signed_voice_webhooks_are_refused(client, engine, path, signature):
    r = post_twilio(client, path, call_params(Digits="1", CallStatus="completed"), signature=signature)
    assert r.status_code == 403
    assert intakes(engine) == []


def test_tampered_menu_answer_is_refused(client, engine):
    from tests.conftest import sign

    params = call_params(Digits="3")
    signature = sign(VOICE + "/menu?n=1", params)
    params["Digits"] = "1"
    assert post_twilio(client, VOICE + "/menu?n=1", params, signature=signature).status_code == 403
    # The query string is signed too.
    assert post_twilio(client, VOICE + "/menu?n=2", call_params(Digits="1"),
                       signature=sign(VOICE + "/menu?n=1", call_params(Digits="1"))).status_code == 403
    assert intakes(engine) == []


def test_without_auth_token_the_voice_line_is_closed(settings):
    from fastapi.testclient import TestClient

    from tepsa.app import create_app

    closed = settings.model_copy(update={"twilio_auth_token": None})
    with TestClient(create_app(closed), base_url=PUBLIC_URL) as c:
        for path in (VOICE, VOICE + "/menu?n=1", STATUS):
            r = post_twilio(c, path, call_params(Digits="1"))
            assert r.status_code == 503 and "not configured" in r.text


@pytest.mark.parametrize("path", PATHS)
def test_missing_call_sid_gets_400(client, engine, path):
    params = call_params(Digits="1", CallStatus="completed", RecordingSid="RE" + "c" * 32,
                         RecordingUrl="https://api.twilio.com/x")
    params.pop("CallSid")
    assert post_twilio(client, path, params).status_code == 400
    assert intakes(engine) == []


@pytest.mark.parametrize("path,extra", [
    (VOICE, {"CallSid": "CA bad sid; drop table"}),
    (VOICE + "/menu?n=lots", {"Digits": "1"}),
    (VOICE + "/menu?n=0", {"Digits": "1"}),
    (VOICE + "/wait?q=vip", {"QueueTime": "1"}),
    (VOICE + "/wait?q=darurat", {"QueueTime": "sebentar"}),
    (VOICE + "/queue", {"QueueResult": "leave"}),
    (STATUS, {"CallStatus": ""}),
    (STATUS, {"CallStatus": "completed", "CallDuration": "lama"}),
    (STATUS, {"CallStatus": "completed", "CallDuration": "-5"}),
    (RECORDING, {"RecordingSid": "", "RecordingUrl": "https://api.twilio.com/x"}),
    (RECORDING, {"RecordingSid": "RE" + "d" * 32, "RecordingUrl": "ftp://x", "RecordingStatus": "completed"}),
    (RECORDING, {"RecordingSid": "RE" + "d" * 32, "RecordingUrl": "https://x", "RecordingDuration": "x"}),
])
def test_odd_fields_get_400_never_500(client, engine, path, extra):
    assert post_twilio(client, path, call_params(**extra)).status_code == 400
    assert intakes(engine) == []


def test_withheld_number_still_gets_through(client, engine):
    params = call_params(phone="anonymous", Digits="1")
    r = post_twilio(client, VOICE + "/menu?n=1", params)
    assert twiml(r).find("Enqueue").text == "darurat"
    [intake] = intakes(engine)
    assert intake.reporter_phone is None and intake.urgency == "darurat"


def test_reference_is_spelled_the_indonesian_way():
    from tepsa.channels.voice import menu_choice, spell_reference

    assert spell_reference("K7M-4QX") == ["ka. tujuh. em.", "empat. ki. eks."]
    assert menu_choice("", "Satu.") == "darurat"
    assert menu_choice("", "tolong saya mau lapor") == "darurat"  # danger wins
    assert menu_choice("", "saya mau melaporkan") == "lapor"
    assert menu_choice("", "informasinya apa") == "info"
    assert menu_choice("5", "") is None and menu_choice("", "") is None


@pytest.mark.parametrize("call_known", [True, False])
def test_racing_deliveries_of_key_1_open_one_intake(engine, call_known):
    from concurrent.futures import ThreadPoolExecutor

    from tepsa.conversation import voice as calls

    sid = "CA" + "3" * 32
    if call_known:
        in_transaction(engine, calls.call_started, sid, PHONE)
    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(lambda _: in_transaction(engine, calls.menu_answered, sid, PHONE, "darurat", 1),
                               range(4)))
    [intake] = intakes(engine)
    assert {s.intake_id for s in states} == {intake.id}
    assert sum(s.new_intake for s in states) == 1
    with Session(engine) as s:
        assert s.exec(select(VoiceCall)).one().intake_id == intake.id
