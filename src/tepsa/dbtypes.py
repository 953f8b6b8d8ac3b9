"""Column types that encrypt on the way in and decrypt on the way out (see tepsa.crypto)."""

from __future__ import annotations

import json

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from tepsa import crypto


class EncryptedText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else crypto.current().encrypt(str(value))

    def process_result_value(self, value, dialect):
        return None if value is None else crypto.current().decrypt(value)


class EncryptedJSON(TypeDecorator):
    """JSON kept as one encrypted text (its content is never queried by the database)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else crypto.current().encrypt(json.dumps(value, ensure_ascii=False, default=str))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(crypto.current().decrypt(value))
