"""Signed checkpoints of the audit trail's head, kept outside the database (decision 0312).

`joinedup audit checkpoint` reads the head (its entry number and hash, and the id of the key that made the hash),
signs it with an Ed25519 key kept outside the database, and appends it as one JSON line to a file, or prints it for
an operator to keep elsewhere. `joinedup audit verify` checks every checkpoint's signature with the public key and
then checks the chain against it: an entry at or before a checkpoint that no longer hashes to what was signed, or
a trail that now ends before a checkpoint's entry, is reported. The keyed chain stops someone without the audit key
from rewriting entries; a checkpoint also stops someone who has it from rewriting or cutting off anything a
checkpoint already covers, since the signing key (which can live on another host) is not needed to append.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, select

from joinedup.store.governance_schema import audit_head, audit_log


class CheckpointError(Exception):
    """A checkpoint file or key that cannot be used: missing, unreadable, or a line whose signature fails."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    key_id: str | None
    time: str
    signer: str
    signature: str = ""

    def signed_part(self) -> bytes:
        """What the signature covers: every field but the signature, as canonical JSON."""
        body = {"seq": self.seq, "head": self.head, "key_id": self.key_id, "time": self.time, "signer": self.signer}
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    def line(self) -> bytes:
        body: dict[str, Any] = orjson.loads(self.signed_part())
        body["signature"] = self.signature
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def public_key_file(signing_key_file: Path) -> Path:
    """Where the public half of a signing key is written: beside it, '.pub' for its suffix."""
    return signing_key_file.with_suffix(".pub")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_signing_key(signing_key_file: Path) -> Ed25519PrivateKey:
    """The checkpoint signing key, made on first use (owner-only file) with its public key written beside it."""
    if not signing_key_file.exists():
        _make_signing_key(signing_key_file)
    try:
        key = serialization.load_pem_private_key(signing_key_file.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"the checkpoint signing key at {signing_key_file} cannot be read: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"the checkpoint signing key at {signing_key_file} is not an Ed25519 key")
    return key


def _make_signing_key(signing_key_file: Path) -> None:
    key = Ed25519PrivateKey.generate()
    signing_key_file.parent.mkdir(parents=True, exist_ok=True)
    written = signing_key_file.with_name(f".{signing_key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    try:
        os.link(written, signing_key_file)  # the first of racing makers wins; the others use its key
    except FileExistsError:
        return
    finally:
        written.unlink()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_key_file(signing_key_file).write_bytes(public)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint public key at {path}") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"the checkpoint public key at {path} cannot be read: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"the checkpoint public key at {path} is not an Ed25519 key")
    return key


def make_checkpoint(engine: Engine, signing_key: Ed25519PrivateKey) -> Checkpoint:
    """A signed checkpoint of the head as it is now."""
    with engine.connect() as conn:
        head = conn.execute(select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == 1)).one()
        key_id = conn.execute(select(audit_log.c.key_id).where(audit_log.c.seq == head.seq)).scalar()
    moment = datetime.now(tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    unsigned = Checkpoint(int(head.seq), str(head.entry_hash), key_id, moment, fingerprint(signing_key.public_key()))
    signature = base64.urlsafe_b64encode(signing_key.sign(unsigned.signed_part())).decode("ascii")
    return Checkpoint(unsigned.seq, unsigned.head, unsigned.key_id, unsigned.time, unsigned.signer, signature)


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """One line appended and flushed to the disk before the command says it is done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "ab") as handle:
        handle.write(checkpoint.line() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_checkpoints(path: Path, public_key: Ed25519PublicKey) -> list[Checkpoint]:
    """Every checkpoint in the file, each signature checked, in the file's order; a missing file holds none."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    checkpoints = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            body = orjson.loads(text)
            checkpoint = Checkpoint(
                int(body["seq"]),
                str(body["head"]),
                None if body["key_id"] is None else str(body["key_id"]),
                str(body["time"]),
                str(body["signer"]),
                str(body["signature"]),
            )
            public_key.verify(base64.urlsafe_b64decode(checkpoint.signature), checkpoint.signed_part())
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise CheckpointError(f"checkpoint line {number} of {path} cannot be read") from None
        except InvalidSignature:
            raise CheckpointError(
                f"checkpoint line {number} of {path} has a signature that does not match its content or key"
            ) from None
        checkpoints.append(checkpoint)
    return checkpoints
