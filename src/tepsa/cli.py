"""The ``tepsa`` command (shared/spec/interfaces.md): serve, migrate, triage, workers, users, demo."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from tepsa.config import get_settings


class CliError(Exception):
    """A clear one-line error for the person at the terminal (exit status 2)."""


def _engine():
    from tepsa.bootstrap import configure_runtime
    from tepsa.db import make_engine

    configure_runtime(get_settings())
    return make_engine(get_settings().database_url)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from tepsa.app import create_app
    from tepsa.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False,
                proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)


def cmd_migrate(_args: argparse.Namespace) -> None:
    from tepsa.bootstrap import prepare_database

    inserted = prepare_database(_engine())
    print(f"database up to date (reference rows loaded: {inserted['region']} regions, {inserted['unit']} units)")


def _read_jsonl(path: Path):
    try:
        f = open(path, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CliError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
                raise CliError(f"{path}:{n}: a report needs a 'messages' list")
            yield obj


def cmd_triage(args: argparse.Namespace) -> None:
    from tepsa.triage.engine import triage
    from tepsa.triage.report_set import run_report_set

    if args.train:
        _train_second_opinion(args)
        return
    if args.explain is not None:
        result = triage([args.explain]).to_dict()
        print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else explain_text(result))
        return
    if args.file is None:
        raise CliError("give a report set FILE.jsonl or --explain TEXT")
    reports = list(_read_jsonl(Path(args.file)))
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for row in run_report_set(reports):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"triaged {len(reports)} report(s) -> {args.output}", file=sys.stderr)


def _train_second_opinion(args: argparse.Namespace) -> None:
    """Learn the second opinion from labelled report sets and write it where the rules are."""
    from tepsa.resources import data_dir
    from tepsa.triage import second_opinion
    from tepsa.triage.rules import RANK, get_ruleset

    files = [Path(f) for f in ([args.file] if args.file else []) + list(args.train)]
    reports: list[dict] = []
    for path in files:
        for n, r in enumerate(_read_jsonl(path), start=1):
            labels = r.get("labels")
            if not isinstance(labels, dict) or labels.get("urgency") not in RANK \
                    or not isinstance(labels.get("category"), str):
                raise CliError(f"{path}: report {n}: needs labels.urgency and labels.category to learn from")
            reports.append(r)
    if not reports:
        raise CliError("no labelled reports to learn from")
    rs = get_ruleset()
    model = second_opinion.train(
        reports, lambda msgs: rs.model_features(rs.normalizer.tokens(msgs).words),
        trained_on={p.name: second_opinion.file_digest(p) for p in files})
    out = Path(args.output) if args.output else data_dir("triage") / "second_opinion.json"
    second_opinion.dump(model, out)
    print(f"learnt from {len(reports)} report(s) in {len(files)} file(s) -> {out}", file=sys.stderr)


def explain_text(result: dict) -> str:
    """The triage result as a person reads it: labels, place names, then every rule and its words."""
    from tepsa.geo.gazetteer import get_gazetteer
    from tepsa.vocab import category_label, urgency_label

    gaz = get_gazetteer()

    def place(kode):
        region = gaz.region(kode) if kode else None
        return f"{region.nama} ({kode})" if region else "-"

    lines = [
        f"urgensi / urgency     : {urgency_label(result['urgency'])} ({result['urgency']})",
        f"kategori / category   : {category_label(result['category'])} ({result['category']})",
        f"semua kategori        : {', '.join(result['categories'])}",
        f"kab/kota              : {place(result['kabkota_kode']) if result['kabkota_kode'] else 'tidak diketahui / unknown'}",
        f"kecamatan             : {place(result['kecamatan_kode'])}",
        f"desa/kelurahan        : {place(result['desa_kode'])}",
        f"umur / age            : {result['age'] if result['age'] is not None else '-'}",
        f"jenis kelamin / sex   : {result['child_sex'] or '-'}",
        f"pelapor / reporter    : {result['reporter'] or '-'}",
        f"perlu ditinjau        : {'YA / yes' if result['needs_review'] else 'tidak / no'}",
        f"versi aturan / rules  : {result['ruleset_version']}",
        "alasan / reasons:",
    ]
    for reason in result["reasons"]:
        matched = ", ".join(f'"{m}"' for m in reason.get("matched") or [])
        p = f" (p={reason['p']})" if "p" in reason else ""  # the second opinion's probability
        lines.append(f"  - {reason.get('rule')}: {reason.get('effect')}{p}" + (f"  <- {matched}" if matched else ""))
    return "\n".join(lines)


def _kabkota_codes(session) -> set[str]:
    from sqlmodel import col, select

    from tepsa.geo.models import Region

    return set(session.exec(select(Region.kode).where(col(Region.level).in_(["kabupaten", "kota"]))))


def import_roster_file(engine, path: Path):
    from sqlmodel import Session

    from tepsa.assignment.models import Worker
    from tepsa.assignment.roster import RosterError, import_roster, parse_roster
    from tepsa.notify.service import release_held_for_worker
    from sqlmodel import select

    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    with Session(engine) as session:
        try:
            rows = parse_roster(content, _kabkota_codes(session))
        except RosterError as exc:
            raise CliError(f"{path}: " + "; ".join(exc.problems)) from None
        result = import_roster(session, rows)
        session.flush()
        linked = session.exec(select(Worker.id).where(Worker.telegram_chat_id.is_not(None))).all()
        for worker_id in linked:
            release_held_for_worker(session, worker_id)
        session.commit()
    return result


def cmd_workers_import(args: argparse.Namespace) -> None:
    from tepsa.bootstrap import prepare_database

    engine = _engine()
    prepare_database(engine)
    result = import_roster_file(engine, Path(args.file))
    print(f"workers: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")


def cmd_workers_link(args: argparse.Namespace) -> None:
    from sqlmodel import Session

    from tepsa.assignment.enrolment import EnrolmentError, create_link
    from tepsa.bootstrap import prepare_database

    settings = get_settings()
    engine = _engine()
    prepare_database(engine)
    with Session(engine) as session:
        try:
            url = create_link(session, args.kode, settings.telegram_bot_username, settings.enrolment_hours, "cli")
        except EnrolmentError as exc:
            raise CliError(str(exc)) from None
        session.commit()
    print(url)
    print(f"(sekali pakai, berlaku {settings.enrolment_hours} jam / single use, valid {settings.enrolment_hours} hours)",
          file=sys.stderr)


def cmd_keys_rotate(_args: argparse.Namespace) -> None:
    """Add a new data key and re-encrypt every protected value with it."""
    from tepsa import crypto
    from tepsa.bootstrap import prepare_database
    from tepsa.keys import reencrypt_all

    settings = get_settings()
    engine = _engine()
    prepare_database(engine)
    old = crypto.current()
    new = old.rotated()
    if settings.data_keys:
        print("TEPSA_DATA_KEYS is set: store this new value in its place, then run the rotation again "
              "with it set:", file=sys.stderr)
        print(new.to_json())
        return
    from pathlib import Path

    crypto.write_key_file(Path(settings.data_key_file), new)
    crypto.configure(new)
    counts = reencrypt_all(engine)
    print(f"data key {new.current_id} now in use; re-encrypted " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def cmd_retention_run(args: argparse.Namespace) -> None:
    from sqlmodel import Session

    from tepsa.bootstrap import prepare_database
    from tepsa.privacy.service import process_erasures, run_retention

    settings = get_settings()
    engine = _engine()
    prepare_database(engine)
    days = args.days if args.days is not None else settings.retention_closed_days
    with Session(engine) as session:
        erased = process_erasures(session)
        counts = run_retention(session, days)
        session.commit()
    print(f"retention ({days} days after closing): {counts['intakes']} intake(s) anonymised, "
          f"{counts['messages']} raw message(s)/attachment(s) deleted; {erased} erasure request(s) carried out")


def cmd_users_add(args: argparse.Namespace) -> None:
    from sqlmodel import Session

    from tepsa.auth.models import ROLES
    from tepsa.auth.service import AuthError, create_user
    from tepsa.bootstrap import prepare_database

    if args.role not in ROLES:
        raise CliError(f"unknown role {args.role!r}; choose one of: {', '.join(ROLES)}")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CliError("passwords do not match")
    engine = _engine()
    prepare_database(engine)
    with Session(engine) as session:
        try:
            user = create_user(session, args.username, args.role, password)
            if args.telegram_chat_id:
                if not args.telegram_chat_id.lstrip("-").isdigit():
                    raise AuthError("--telegram-chat-id must be a number")
                user.telegram_chat_id = args.telegram_chat_id
        except AuthError as exc:
            raise CliError(str(exc)) from None
        session.commit()
    print(f"user {args.username} added with role {args.role}")


def cmd_demo(_args: argparse.Namespace) -> None:
    from tepsa.demo import load_demo

    summary = load_demo(_engine())
    print(summary)


def cmd_simulate(args: argparse.Namespace) -> None:
    """Talk to a running TepSA as a reporter would, through its signed Twilio webhooks."""
    from tepsa.channels.simulator import Simulator

    settings = get_settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        raise CliError("set TEPSA_TWILIO_AUTH_TOKEN to the service's token (make run uses local-demo-token)")
    sim = Simulator(args.url or settings.public_base, token, phone=args.phone)
    lines = iter(sys.stdin.readline, "")
    try:
        if args.voice:
            _simulate_call(sim, lines)
        else:
            print("WhatsApp ke TepSA. Ketik pesan; '/lokasi LAT LON' mengirim lokasi; Ctrl-D selesai.")
            for line in lines:
                line = line.rstrip("\n")
                if line.startswith("/lokasi"):
                    _, lat, lon = (line.split() + ["", ""])[:3]
                    replies = sim.whatsapp("", lat=float(lat), lon=float(lon))
                else:
                    replies = sim.whatsapp(line)
                for reply in replies:
                    print(f"TepSA> {reply}")
    except Exception as exc:  # connection refused, bad answers: one clear line
        raise CliError(f"simulator: {type(exc).__name__}: {exc}") from None


def _simulate_call(sim, lines) -> None:
    step = sim.call()
    while True:
        for said in step.said:
            print(f"TepSA (suara)> {said}")
        if step.enqueued:
            print(f"[menunggu operator di antrean '{step.enqueued}'; tekan Enter bila tidak ada yang menjawab]")
            if next(lines, None) is None:
                break
            step = sim.leave_queue(step)
            continue
        if step.dial:
            print("[disambungkan ke operator]")
            break
        if step.hangup or step.gather_action is None:
            break
        line = next(lines, None)
        if line is None:
            break
        line = line.strip()
        step = sim.answer(step, digits=line if line.isdigit() else None, speech=None if line.isdigit() else line)
    sim.hang_up()
    print("[panggilan selesai]")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tepsa", description="TepSA child hotline service (1500-771)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the service (migrates and loads reference data on first start)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies trusted for X-Forwarded-For/Proto (default: 127.0.0.1)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("migrate", help="apply database migrations to TEPSA_DATABASE_URL")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("triage", help="classify a report set (JSON Lines) or one text")
    s.add_argument("file", nargs="?", help="report set in JSON Lines (shared/spec/report-set-format.md)")
    s.add_argument("-o", "--output", help="write results here (default: standard output)")
    s.add_argument("--explain", metavar="TEXT", help="triage one report text and print the result with its reasons")
    s.add_argument("--json", action="store_true", help="with --explain: print the result as JSON")
    s.add_argument("--train", nargs="+", metavar="LABELLED.jsonl", default=None,
                   help="learn the second opinion from labelled report sets and write it to "
                        "triage/second_opinion.json (or -o)")
    s.set_defaults(func=cmd_triage)

    w = sub.add_parser("workers", help="field-worker roster").add_subparsers(dest="workers_command", required=True)
    s = w.add_parser("import", help="create or update workers from a roster CSV (safe to run again)")
    s.add_argument("file")
    s.set_defaults(func=cmd_workers_import)
    s = w.add_parser("link", help="print a one-time Telegram enrolment link for a worker")
    s.add_argument("kode")
    s.set_defaults(func=cmd_workers_link)

    u = sub.add_parser("users", help="console and API users").add_subparsers(dest="users_command", required=True)
    s = u.add_parser("add", help="create a user")
    s.add_argument("username")
    s.add_argument("--role", required=True, help="operator, supervisor or admin")
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s.add_argument("--telegram-chat-id", help="Telegram chat for escalation alerts (supervisors)")
    s.set_defaults(func=cmd_users_add)

    s = sub.add_parser("simulate", help="send WhatsApp messages or walk the IVR of a running service (signed)")
    s.add_argument("--voice", action="store_true", help="simulate a call to 1500-771 instead of WhatsApp")
    s.add_argument("--phone", default="+6281200000001", help="the (fictional) reporter's number")
    s.add_argument("--url", help="the service's public URL (default: TEPSA_PUBLIC_URL)")
    s.set_defaults(func=cmd_simulate)

    k = sub.add_parser("keys", help="encryption keys for personal data").add_subparsers(dest="keys_command",
                                                                                      required=True)
    s = k.add_parser("rotate", help="add a new data key and re-encrypt all protected values with it")
    s.set_defaults(func=cmd_keys_rotate)

    r = sub.add_parser("retention", help="retention of closed intakes").add_subparsers(dest="retention_command",
                                                                                     required=True)
    s = r.add_parser("run", help="anonymise closed intakes past the retention period (also runs on schedule)")
    s.add_argument("--days", type=int, help="override TEPSA_RETENTION_CLOSED_DAYS")
    s.set_defaults(func=cmd_retention_run)

    s = sub.add_parser("demo", help="load a fictional demo roster and example reports")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CliError as exc:
        print(f"tepsa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
