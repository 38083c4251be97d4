"""Last contact of member systems and sign-in sessions, stamped out of band so that a read never writes.

A read request only notes in memory who came and when. A background thread writes what was noted in one
short transaction every few seconds (GOVOPS_CONTACT_FLUSH_SECONDS). When another writer holds the store,
the flush gives up at once and tries again at its next turn: a stamp may come a little late, and it is
never in the way of a read or of a submission.
"""

from __future__ import annotations

import threading
from datetime import datetime

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from govops.auth.service import note_seen
from govops.db.engine import impatient_transaction
from govops.exchange.service import note_contact

log = structlog.get_logger(__name__)


class ContactStamps:
    """Contacts noted by requests, written by `flush` (on a thread started with `start`)."""

    def __init__(self, engine: Engine, *, every: float = 5.0) -> None:
        self.engine, self.every = engine, every
        self._lock = threading.Lock()
        # (member id, the key it presented) -> the latest contact; user session id -> the latest request.
        self._members: dict[tuple[int, str], datetime] = {}
        self._sessions: dict[int, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def member(self, member_id: int, presented: str, at: datetime) -> None:
        with self._lock:
            key = (member_id, presented)
            self._members[key] = max(at, self._members.get(key, at))

    def user_session(self, user_session_id: int, at: datetime) -> None:
        with self._lock:
            self._sessions[user_session_id] = max(at, self._sessions.get(user_session_id, at))

    def pending(self) -> int:
        with self._lock:
            return len(self._members) + len(self._sessions)

    def flush(self, *, session: Session | None = None) -> int:
        """Write the noted contacts in one transaction (or into `session`, uncommitted); returns how many.

        When the store is busy, nothing is written, the contacts stay noted for the next flush and 0 is returned.
        """
        with self._lock:
            members, self._members = self._members, {}
            sessions, self._sessions = self._sessions, {}
        if not members and not sessions:
            return 0
        try:
            if session is not None:
                self._write(session, members, sessions)
            else:
                with impatient_transaction(self.engine) as writer:
                    self._write(writer, members, sessions)
        except OperationalError as exc:
            log.debug("contacts not stamped yet: the store is busy", error=str(exc.orig))
            with self._lock:
                for key, at in members.items():
                    self._members[key] = max(at, self._members.get(key, at))
                for sid, at in sessions.items():
                    self._sessions[sid] = max(at, self._sessions.get(sid, at))
            return 0
        return len(members) + len(sessions)

    @staticmethod
    def _write(session: Session, members: dict[tuple[int, str], datetime], sessions: dict[int, datetime]) -> None:
        for (member_id, presented), at in sorted(members.items()):
            note_contact(session=session, member_id=member_id, presented=presented, now=at)
        for user_session_id, at in sorted(sessions.items()):
            note_seen(session=session, user_session_id=user_session_id, now=at)
        session.flush()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="govops-contact-stamps", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._flush_logged()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:
            # A stamp is not worth a crashed thread; what was noted is dropped with this one log line.
            log.exception("contacts could not be stamped")
