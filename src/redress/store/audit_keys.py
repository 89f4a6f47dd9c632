"""The audit log's keys, held in a key file outside the database.

Each key is 32 random bytes.  Two keys are derived from it: an HMAC-SHA256 key for the chain (each event's
hash is a MAC under it, so an edited event cannot be given a fresh hash without the file) and an Ed25519
signing key for checkpoints (the public half goes into each checkpoint, so whoever keeps one can check its
signature without being able to make one).  A key's id is derived from it too, so a key file can never
hold a key under another key's id.

The file is JSON, owner-only (0600), and only grows: rotating adds a key and keeps the old ones, since old
events must still verify.  Which key writes is decided by the database (``audit_head.key_id``), not by the
file.  Where the file is: ``$REDRESS_AUDIT_KEY_FILE``; else next to a SQLite database
(``redress.sqlite3.audit-key``); else ``redress-data/audit-keys/HOST-PORT-DATABASE[-SCHEMA].key`` under the
current directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from redress.errors import AdminError

KEY_FILE_ENV = "REDRESS_AUDIT_KEY_FILE"
FORMAT = "redress-audit-keys/1"
DEFAULT_DIR = Path("redress-data") / "audit-keys"
NOTE = ("Keys of a Redress audit log. Keep this file secret, owner-only, and backed up apart from the database: "
        "without it the log cannot be verified or written. Old keys stay so that old events still verify.")


class AuditKeyMissing(AdminError):
    """The key the audit log needs is not where Redress looks for it."""


class BadKeyFile(AdminError):
    """The key file is there but is not a Redress key file."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"redress audit {purpose}".encode(), hashlib.sha256).digest()


def key_id_of(secret: bytes) -> str:
    return "k" + _derive(secret, "key id").hex()[:16]


@dataclass(frozen=True)
class AuditKey:
    """One key of the file: its id, when it was made, and what is derived from its secret."""

    id: str
    created_at: str
    secret: bytes = field(repr=False)
    chain_key: bytes = field(repr=False)
    signing_seed: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes, created_at: str) -> AuditKey:
        if len(secret) != 32:
            raise ValueError("an audit key is 32 bytes")
        return cls(key_id_of(secret), created_at, secret, _derive(secret, "chain"), _derive(secret, "checkpoint"))

    def mac(self, message: bytes) -> str:
        return hmac.new(self.chain_key, message, hashlib.sha256).hexdigest()

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.signing_seed).sign(message)

    @property
    def public_key(self) -> str:
        """The Ed25519 public key that checks this key's checkpoints (hex)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        pub = Ed25519PrivateKey.from_private_bytes(self.signing_seed).public_key()
        return pub.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def fingerprint(public_key_hex: str) -> str:
    """A short form of a public key for reading aloud or printing: 8 groups of 4 hex digits of its SHA-256."""
    h = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]
    return " ".join(h[i:i + 4] for i in range(0, 32, 4))


def signature_holds(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex),
                                                                                 message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Keyring:
    """The keys of one key file, oldest first."""

    path: Path
    keys: tuple[AuditKey, ...]
    loose: bool = False        # readable or writable by others than its owner

    def get(self, key_id: str | None) -> AuditKey | None:
        return next((k for k in self.keys if k.id == key_id), None)

    @property
    def newest(self) -> AuditKey:
        return self.keys[-1]


def default_path(url: str | URL) -> Path | None:
    """Where the key file of the database at ``url`` is when ``$REDRESS_AUDIT_KEY_FILE`` does not say."""
    u = make_url(url) if isinstance(url, str) else url
    if u.get_backend_name() == "sqlite":
        if not u.database or u.database == ":memory:" or u.database.startswith("file:"):
            return None
        return Path(u.database).with_name(Path(u.database).name + ".audit-key")
    parts = [u.host or "local", str(u.port or ""), u.database or ""]
    options = u.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    schema = re.search(r"search_path=([^\s,]+)", options or "")
    if schema:
        parts.append(schema.group(1))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(p for p in parts if p))
    return DEFAULT_DIR / f"{slug}.key"


def key_file(url: str | URL, explicit: str | Path | None = None) -> Path | None:
    """The key file for ``url``: ``explicit``, else ``$REDRESS_AUDIT_KEY_FILE``, else :func:`default_path`."""
    chosen = explicit or os.environ.get(KEY_FILE_ENV)
    return Path(chosen) if chosen else default_path(url)


def load(path: Path | None) -> Keyring | None:
    """The keys in ``path``; None when there is no such file."""
    if path is None or not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is {doc.get('format')!r}, not {FORMAT!r}")
        keys = []
        for k in doc["keys"]:
            key = AuditKey.from_secret(bytes.fromhex(k["secret"]), k["created_at"])
            if key.id != k["id"]:
                raise ValueError(f"key {k['id']} does not hold the secret of that id")
            keys.append(key)
        if not keys:
            raise ValueError("no keys")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadKeyFile(f"{path} is not a Redress audit key file ({exc}) / 审计密钥文件无法读取",
                         hint="restore the key file from its backup") from None
    loose = bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    return Keyring(path, tuple(keys), loose)


def add_key(path: Path) -> tuple[Keyring, AuditKey]:
    """Make a new key and add it to the key file at ``path`` (created owner-only if absent); old keys stay."""
    old = load(path)
    key = AuditKey.from_secret(secrets.token_bytes(32), dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    keys = (old.keys if old else ()) + (key,)
    doc = {"format": FORMAT, "note": NOTE,
           "keys": [{"id": k.id, "created_at": k.created_at, "secret": k.secret.hex()} for k in keys]}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".new-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)       # whole or not at all: a crash leaves the old file as it was
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Keyring(path, keys), key
