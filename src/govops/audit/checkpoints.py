"""Checkpoints of the audit trail's head, signed with the server's key and kept where the database cannot
rewrite them.

The hash chain alone shows a changed entry only until someone recomputes the hashes of every entry after
it, and it cannot show that its last entries were deleted. A checkpoint pins the head: how many entries
the trail had, the last one's id and hash, and when, signed with the server's Ed25519 key (the key that
signs submission receipts). Checkpoints are appended as JSON lines to a file (GOVOPS_AUDIT_CHECKPOINT_FILE)
and, when GOVOPS_AUDIT_CHECKPOINT_URL is set, posted to a receiver elsewhere. A rewritten entry changes
the hash of every later one, so the head a checkpoint pinned no longer matches; a cut-short trail has fewer
entries than a checkpoint counted.

Each checkpoint is itself an entry of the trail (audit.checkpoint), the very entry it pins: a line removed
from the file shows as a checkpoint the trail recorded and the file lacks.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from govops import signing
from govops.audit import service
from govops.audit.models import AuditEntry
from govops.audit.schemas import CheckpointOut, CheckpointProblem, Verification
from govops.db.engine import transaction
from govops.errors import GovopsError
from govops.settings import Settings

log = structlog.get_logger(__name__)

# Part of what is signed, so that a checkpoint's signature can never pass for a receipt's, nor the reverse.
KIND = "govops.audit.checkpoint"
ACTION = "audit.checkpoint"
# Entries looked up per query when checking checkpoints.
_CHUNK = 500

TRUNCATED = "the trail has {total} entries, fewer than the {entries} this checkpoint counted: entries were deleted"
CUT_SHORT = (
    "entry {id} is missing: the trail now ends at entry {last}, before the head this checkpoint pinned "
    "(its last entries were deleted)"
)
DELETED = "entry {id} is missing: it was deleted"
REWRITTEN = (
    "entry {id} no longer has the hash this checkpoint signed: it, or an entry before it, was changed "
    "and the hashes after it recomputed"
)
BAD_SIGNATURE = "the signature does not verify: the line was changed after it was written"
OTHER_KEY = "signed by key {signed}, not by this server's key {ours}"
LINE_MISSING = "the trail recorded this checkpoint but the checkpoint file lacks it: a line was removed"


@dataclass(frozen=True)
class Checkpoint:
    at: datetime
    entries: int
    last_id: int
    last_hash: str
    key_id: str
    signature: str = ""

    def signed_part(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "at": service.iso_utc(self.at),
            "entries": self.entries,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "key_id": self.key_id,
        }

    def signed_bytes(self) -> bytes:
        return service.canonical_json(self.signed_part()).encode("utf-8")

    def line(self) -> str:
        """The checkpoint as one line of the checkpoint file (and the body posted to a receiver)."""
        return service.canonical_json({**self.signed_part(), "signature": self.signature})

    def out(self) -> CheckpointOut:
        return CheckpointOut(
            at=self.at, entries=self.entries, last_id=self.last_id, last_hash=self.last_hash, key_id=self.key_id
        )


# --- writing ----------------------------------------------------------------------------------


def record_checkpoint(
    *, session: Session, key: Ed25519PrivateKey, file: Path, only_if_new: bool = False, at: datetime | None = None
) -> Checkpoint | None:
    """Record an audit.checkpoint entry and return the signed checkpoint of the trail's head, which is that
    entry (flushed, not committed). With `only_if_new`, None when nothing was recorded since the last
    checkpoint (or nothing at all)."""
    service.take_turn(session)  # the head read here stays the head until this transaction ends
    if only_if_new:
        head = session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))
        if head is None or head == ACTION:
            return None
    entry = service.record(
        session=session,
        action=ACTION,
        actor_kind=service.SYSTEM.kind,
        actor=service.SYSTEM.name,
        target=file.name,
        detail={"file": str(file), "host": socket.gethostname()},
        at=at,
    )
    entries = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    unsigned = Checkpoint(
        at=entry.at, entries=entries, last_id=entry.id, last_hash=entry.hash, key_id=signing.key_id(key)
    )
    return Checkpoint(**{**unsigned.__dict__, "signature": signing.sign(key, unsigned.signed_bytes())})


def send_checkpoint(*, url: str, checkpoint: Checkpoint, timeout: float) -> str | None:
    """POST the checkpoint's line (JSON) to an external receiver; None when it took it (2xx), else why not."""
    try:
        response = httpx.post(
            url,
            content=checkpoint.line().encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if not response.is_success:
        return f"HTTP {response.status_code}"
    return None


@dataclass(frozen=True)
class Written:
    checkpoint: Checkpoint
    file: Path
    # Why the receiver at GOVOPS_AUDIT_CHECKPOINT_URL did not take it; None when it did or none is set.
    send_error: str | None = None


def write_checkpoint(*, engine: Engine, settings: Settings) -> Written:
    """Checkpoint the trail in a transaction of its own, append the line to the checkpoint file, then post it
    to the receiver if one is set."""
    written = _write(engine=engine, settings=settings, only_if_new=False)
    assert written is not None, "only_if_new=False always writes"
    return written


def write_checkpoint_if_new(*, engine: Engine, settings: Settings) -> Written | None:
    """`write_checkpoint` when entries were recorded since the last checkpoint; else nothing (None)."""
    return _write(engine=engine, settings=settings, only_if_new=True)


def _write(*, engine: Engine, settings: Settings, only_if_new: bool) -> Written | None:
    path = settings.audit_checkpoint_file
    key = signing.server_key(settings.signing_key_file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = path.open("a", encoding="utf-8")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with sink:
        # One writer per file at a time (serve, worker and CLI processes on one host): lines follow the trail.
        fcntl.flock(sink, fcntl.LOCK_EX)
        with transaction(engine) as session:
            checkpoint = record_checkpoint(session=session, key=key, file=path, only_if_new=only_if_new)
        if checkpoint is None:
            return None
        try:
            sink.write(checkpoint.line() + "\n")
            sink.flush()
            os.fsync(sink.fileno())
        except OSError as exc:
            raise _unwritable(path, exc) from None
    log.info("audit checkpoint", last_id=checkpoint.last_id, entries=checkpoint.entries, file=str(path))
    send_error = None
    if settings.audit_checkpoint_url:
        send_error = send_checkpoint(
            url=settings.audit_checkpoint_url, checkpoint=checkpoint, timeout=settings.webhook_timeout
        )
        if send_error:
            log.warning("audit checkpoint not taken by its receiver", url=settings.audit_checkpoint_url, why=send_error)
    return Written(checkpoint=checkpoint, file=path, send_error=send_error)


def _unwritable(path: Path, exc: OSError) -> GovopsError:
    return GovopsError(
        f"cannot write the audit checkpoint file: {exc.strerror or exc}",
        code="checkpoint_file_unwritable",
        where=str(path),
        hint="make its folder exist and writable by the account govops runs as, or set GOVOPS_AUDIT_CHECKPOINT_FILE",
    )


# --- reading ----------------------------------------------------------------------------------


def parse_line(text: str) -> Checkpoint:
    """A checkpoint from its line; ValueError saying what is wrong with it."""
    try:
        fields = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(fields, dict) or fields.get("kind") != KIND:
        raise ValueError(f"not a checkpoint (kind is not {KIND})")
    try:
        at = datetime.fromisoformat(fields["at"])
        checkpoint = Checkpoint(
            at=at,
            entries=fields["entries"],
            last_id=fields["last_id"],
            last_hash=fields["last_hash"],
            key_id=fields["key_id"],
            signature=fields["signature"],
        )
    except KeyError as exc:
        raise ValueError(f"the field {exc.args[0]} is missing") from None
    except (TypeError, ValueError):
        raise ValueError("the field at is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ValueError("the field at carries no time zone")
    for name in ("entries", "last_id"):
        value = getattr(checkpoint, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"the field {name} is not a whole number")
    for name in ("last_hash", "key_id", "signature"):
        if not isinstance(getattr(checkpoint, name), str):
            raise ValueError(f"the field {name} is not text")
    return checkpoint


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's non-empty lines with their numbers (from 1); nothing when the file does not exist."""
    try:
        source = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with source:
        for number, text in enumerate(source, start=1):
            if text.strip():
                yield number, text.strip()


def last_line(path: Path, block: int = 4096) -> str | None:
    """The file's last non-empty line, read from its end; None when it has none or does not exist."""
    try:
        source = path.open("rb")
    except FileNotFoundError:
        return None
    with source:
        end = source.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - block)
            source.seek(start)
            tail = source.read(end - start) + tail
            end = start
            lines = tail.strip().splitlines()
            if len(lines) > 1 or (lines and end == 0):
                return lines[-1].decode("utf-8", errors="replace")
        return None


def existing_public_key(key_file: Path) -> str | None:
    """The server's public key (base64) if its key file exists; never makes a new key (which would sign
    nothing that was written before)."""
    if not key_file.exists():
        return None
    try:
        return signing.public_key_b64(signing.server_key(key_file))
    except ValueError:
        raise GovopsError(
            "the server's signing key file holds no Ed25519 private key",
            code="signing_key_unreadable",
            where=str(key_file),
            hint="restore the key file from its backup, or point GOVOPS_SIGNING_KEY_FILE at it",
        ) from None


@dataclass(frozen=True)
class LastCheckpoint:
    checkpoint: Checkpoint | None
    # Whether its signature verifies with the server's key; None when it could not be read or no key exists.
    verified: bool | None


def latest(*, file: Path, public_key: str | None) -> LastCheckpoint | None:
    """The checkpoint file's last line, read and checked against the key; None when the file has no line."""
    text = last_line(file)
    if text is None:
        return None
    try:
        checkpoint = parse_line(text)
    except ValueError:
        return LastCheckpoint(checkpoint=None, verified=None)
    if public_key is None:
        return LastCheckpoint(checkpoint=checkpoint, verified=None)
    return LastCheckpoint(
        checkpoint=checkpoint, verified=signing.verifies(public_key, checkpoint.signature, checkpoint.signed_bytes())
    )


# --- verifying --------------------------------------------------------------------------------


def _problem(reason: str, *, line: int | None = None, checkpoint: Checkpoint | None = None) -> CheckpointProblem:
    return CheckpointProblem(
        reason=reason,
        line=line,
        entry_id=checkpoint.last_id if checkpoint else None,
        checkpoint_at=checkpoint.at if checkpoint else None,
    )


def check_checkpoints(
    *, session: Session, file: Path, public_key: str, key_id: str
) -> tuple[list[Checkpoint], list[CheckpointProblem]]:
    """Every line of the checkpoint file against the key and the store: the checkpoints whose signature
    verified, and every problem found (unreadable or unsigned lines, entries missing or rewritten, a trail
    shorter than a checkpoint counted, checkpoints the trail recorded that the file lacks)."""
    problems: list[CheckpointProblem] = []
    trusted: list[tuple[int, Checkpoint]] = []
    in_file: set[int] = set()
    for number, text in read_lines(file):
        try:
            checkpoint = parse_line(text)
        except ValueError as exc:
            problems.append(_problem(f"the line cannot be read: {exc}", line=number))
            continue
        in_file.add(checkpoint.last_id)
        if signing.verifies(public_key, checkpoint.signature, checkpoint.signed_bytes()):
            trusted.append((number, checkpoint))
        elif checkpoint.key_id != key_id:
            problems.append(
                _problem(OTHER_KEY.format(signed=checkpoint.key_id, ours=key_id), line=number, checkpoint=checkpoint)
            )
        else:
            problems.append(_problem(BAD_SIGNATURE, line=number, checkpoint=checkpoint))

    total = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    last_id = session.scalar(select(func.max(AuditEntry.id))) or 0
    if trusted:
        number, most = max(trusted, key=lambda found: (found[1].entries, found[1].last_id))
        if total < most.entries:
            problems.append(_problem(TRUNCATED.format(total=total, entries=most.entries), line=number, checkpoint=most))
    for start in range(0, len(trusted), _CHUNK):
        chunk = trusted[start : start + _CHUNK]
        ids = {c.last_id for _, c in chunk}
        stored: dict[int, str] = {
            entry_id: entry_hash
            for entry_id, entry_hash in session.execute(
                select(AuditEntry.id, AuditEntry.hash).where(AuditEntry.id.in_(ids))
            )
        }
        for number, checkpoint in chunk:
            found = stored.get(checkpoint.last_id)
            if found is None:
                reason = (
                    CUT_SHORT.format(id=checkpoint.last_id, last=last_id)
                    if checkpoint.last_id > last_id
                    else DELETED.format(id=checkpoint.last_id)
                )
                problems.append(_problem(reason, line=number, checkpoint=checkpoint))
            elif found != checkpoint.last_hash:
                problems.append(_problem(REWRITTEN.format(id=checkpoint.last_id), line=number, checkpoint=checkpoint))

    recorded = session.execute(
        select(AuditEntry.id, AuditEntry.at).where(AuditEntry.action == ACTION).order_by(AuditEntry.id)
    ).all()
    for entry_id, at in recorded:
        if entry_id not in in_file:
            problems.append(CheckpointProblem(reason=LINE_MISSING, entry_id=entry_id, checkpoint_at=at))
    return [c for _, c in trusted], problems


def verify_trail(
    *,
    session: Session,
    file: Path,
    public_key: str | None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """`service.verify` (the chain) and every checkpoint of `file` (see check_checkpoints). Without a public
    key, checkpoints cannot be checked: an error if there are any to check."""
    chain = service.verify(session=session, progress=progress)
    has_lines = next(read_lines(file), None) is not None
    recorded = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == ACTION)) or 0
    if not has_lines and not recorded:
        return chain
    if public_key is None:
        raise GovopsError(
            "the server's signing key is missing, so the audit checkpoints cannot be checked",
            code="signing_key_missing",
            where="GOVOPS_SIGNING_KEY_FILE",
            hint="restore the key file from its backup, or pass the server's public key with --public-key",
        )
    try:
        key_id = signing.public_key_id(public_key)
    except ValueError:
        raise GovopsError(
            "the public key is not a base64 Ed25519 key",
            code="invalid_public_key",
            where="--public-key",
            hint="give the 44-character base64 public_key that GET /api/v1/exchange/server-key shows",
        ) from None
    trusted, problems = check_checkpoints(session=session, file=file, public_key=public_key, key_id=key_id)
    last = max(trusted, key=lambda c: (c.entries, c.last_id), default=None)
    return chain.model_copy(
        update={
            "ok": chain.ok and not problems,
            "checkpoints": len(trusted),
            "last_checkpoint": last.out() if last else None,
            "checkpoint_problems": problems,
        }
    )
