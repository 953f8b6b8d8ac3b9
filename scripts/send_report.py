#!/usr/bin/env python3
"""Send a signed WhatsApp report to a running TepSA, as Twilio would.

    python scripts/send_report.py "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"

Uses TEPSA_PUBLIC_URL (default http://127.0.0.1:8000) and TEPSA_TWILIO_AUTH_TOKEN
(default: the local demo token that `make run` uses). The sender number is a
fictional one; --sid repeats a MessageSid to see a Twilio retry answered the same way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import urllib.request
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("text")
    ap.add_argument("--from", dest="sender", default="+6281200000001", help="fictional reporter number")
    ap.add_argument("--sid", default=None, help="MessageSid (default: a new one)")
    ap.add_argument("--lat", type=float)
    ap.add_argument("--lon", type=float)
    a = ap.parse_args()
    base = os.environ.get("TEPSA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    token = os.environ.get("TEPSA_TWILIO_AUTH_TOKEN", "local-demo-token")
    sid = a.sid or "SM" + secrets.token_hex(16)
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": f"whatsapp:{a.sender}",
              "To": "whatsapp:+6281238888002", "Body": a.text, "NumMedia": "0"}
    if a.lat is not None and a.lon is not None:
        params.update(Latitude=str(a.lat), Longitude=str(a.lon))
    url = base + "/webhooks/twilio/whatsapp"
    req = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)})
    with urllib.request.urlopen(req) as resp:
        print(f"HTTP {resp.status} (MessageSid {sid})")
        print(resp.read().decode())


if __name__ == "__main__":
    main()
