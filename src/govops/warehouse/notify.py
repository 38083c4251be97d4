"""Waking readers in other processes when change events commit (PostgreSQL LISTEN/NOTIFY).

A writer's transaction sends ``NOTIFY govops_changes``, which PostgreSQL delivers only if and
when it commits. One listening connection per process and database turns each notification into
the same callbacks a commit in this process fires (`changes.on_commit`): the event stream's hub
and the webhook worker look for new events at once instead of at their next poll. They still
poll, slowly, so a listener that lost its connection delays events but never loses them.
SQLite has one writer process in practice, and its commits already wake this process's readers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar

import psycopg
import structlog
from sqlalchemy import Engine

from govops.db.dialect import is_postgres
from govops.events.service import CHANNEL, announce

log = structlog.get_logger(__name__)

__all__ = ["CHANNEL", "CommitListener", "announce"]

_RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


class CommitListener:
    """A thread holding ``LISTEN govops_changes`` on its own connection, shared by its users in this process."""

    _registry: ClassVar[dict[str, CommitListener]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, conninfo: str, callbacks: list[Callable[[], None]]) -> None:
        self.conninfo, self.callbacks = conninfo, callbacks
        self.users = 0
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="govops-commit-listener", daemon=True)

    @classmethod
    def acquire(cls, engine: Engine, callbacks: list[Callable[[], None]]) -> CommitListener | None:
        """The listener for this engine's database, started with its first user; None on SQLite."""
        if not is_postgres(engine):
            return None
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with cls._registry_lock:
            listener = cls._registry.get(conninfo)
            if listener is None:
                listener = cls._registry[conninfo] = cls(conninfo, callbacks)
                listener._thread.start()
            listener.users += 1
            return listener

    def release(self) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users > 0:
                return
            self._registry.pop(self.conninfo, None)
        self._stop.set()

    def _fire(self) -> None:
        for callback in list(self.callbacks):
            callback()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, application_name="govops-listener") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    failures = 0
                    # Events committed while the connection was down were missed as notifications: look now.
                    self._fire()
                    while not self._stop.is_set():
                        if any(True for _ in conn.notifies(timeout=1.0, stop_after=1)):
                            self._fire()
            except psycopg.Error as exc:
                self.listening.clear()
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("commit listener lost its connection", error=str(exc), retry_in=delay)
                self._stop.wait(delay)
        self.listening.clear()
