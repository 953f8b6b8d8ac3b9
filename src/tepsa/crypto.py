"""Field-level encryption of children's and reporters' data at rest.

Report texts, transcripts, notes, message payloads and reporters' numbers are
stored as AES-256-GCM ciphertext (authenticated: a changed byte fails to
decrypt) under a key kept apart from the database, in a key file or a
variable. Numbers also get a keyed hash (HMAC-SHA256) beside them so that a
number can still be looked up without decrypting every row.

Key material (JSON): ``{"hash_key": b64, "keys": [{"id": "k2", "key": b64}, {"id": "k1", ...}]}``;
the first key encrypts, every listed key decrypts, so ``tepsa keys rotate``
can add a key and re-encrypt the rows at leisure. The hash key never rotates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"


class KeyError_(RuntimeError):
    """The data keys are missing or do not fit the stored data."""


@dataclass(frozen=True)
class DataKeys:
    keys: tuple[tuple[str, bytes], ...]
    hash_key: bytes

    @classmethod
    def generate(cls) -> "DataKeys":
        return cls(((f"k{secrets.token_hex(4)}", AESGCM.generate_key(bit_length=256)),), secrets.token_bytes(32))

    @classmethod
    def from_json(cls, text: str) -> "DataKeys":
        data = json.loads(text)
        keys = tuple((k["id"], base64.b64decode(k["key"])) for k in data["keys"])
        if not keys or any(len(key) != 32 for _, key in keys):
            raise KeyError_("data keys must be 32 bytes each")
        return cls(keys, base64.b64decode(data["hash_key"]))

    def to_json(self) -> str:
        return json.dumps({"hash_key": base64.b64encode(self.hash_key).decode(),
                           "keys": [{"id": i, "key": base64.b64encode(k).decode()} for i, k in self.keys]}, indent=1)

    def rotated(self) -> "DataKeys":
        """A new current key in front; older keys still decrypt."""
        return DataKeys(((f"k{secrets.token_hex(4)}", AESGCM.generate_key(bit_length=256)), *self.keys), self.hash_key)

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def encrypt(self, plaintext: str) -> str:
        kid, key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), kid.encode())
        return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption was on; `tepsa keys rotate` seals it
        kid, _, blob = stored[len(PREFIX):].partition(":")
        key = dict(self.keys).get(kid)
        if key is None:
            raise KeyError_(f"no data key {kid!r} to decrypt a stored value")
        raw = base64.urlsafe_b64decode(blob)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")
        except InvalidTag:
            raise KeyError_("a stored value failed authentication (changed or wrong key)") from None

    def key_id_of(self, stored: str | None) -> str | None:
        if not stored or not stored.startswith(PREFIX):
            return None
        return stored[len(PREFIX):].partition(":")[0]

    def phone_hash(self, phone: str | None) -> str | None:
        if not phone:
            return None
        return hmac.new(self.hash_key, phone.encode("utf-8"), hashlib.sha256).hexdigest()


def load_keys(keys_json: str | None, key_file: str | Path | None, create: bool = True) -> DataKeys:
    """From TEPSA_DATA_KEYS, else the key file (created, mode 0600, on first run when allowed)."""
    if keys_json:
        return DataKeys.from_json(keys_json)
    path = Path(key_file or "tepsa-data.key")
    if path.exists():
        return DataKeys.from_json(path.read_text(encoding="utf-8"))
    if not create:
        raise KeyError_(f"no data key file at {path}")
    keys = DataKeys.generate()
    write_key_file(path, keys)
    return keys


def write_key_file(path: Path, keys: DataKeys) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(keys.to_json())
    os.replace(tmp, path)


_current: DataKeys | None = None


def configure(keys: DataKeys) -> None:
    global _current
    _current = keys


def current() -> DataKeys:
    if _current is None:
        raise KeyError_("data keys not configured (tepsa.crypto.configure)")
    return _current


def phone_hash(phone: str | None) -> str | None:
    return current().phone_hash(phone)
