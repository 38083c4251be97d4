"""Request-scoped dependencies: the database session, and the unit of work that owns the route's transaction.

A route that writes declares `WriteSessionDep`: its work is committed when the route returns and rolled back
when it raises, never by the route itself. Both sessions have the "function" scope: they end as soon as the
route has returned its response object, before a byte is sent, so that a commit that fails is answered with
an error (409, 503...) and never after a 2xx that promised the data was stored. A route that handles a
problem itself (a form shown again with its errors) calls `session.rollback()` before answering; what it
reads afterwards is committed empty.

A route that only reads declares `SessionDep`: a session that refuses to flush or commit anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from govops.db.engine import make_session_factory


class ReadOnlySessionError(RuntimeError):
    """A route that declared a reading session tried to write through it (a bug: declare WriteSessionDep)."""


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    raise ReadOnlySessionError("a reading session never writes: declare WriteSessionDep on this route")


def _refuse_commit(session: Session) -> None:
    raise ReadOnlySessionError("a reading session never commits: declare WriteSessionDep on this route")


def read_only_session_factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """`factory`'s sessions, refusing every flush and commit: what they read is never written back."""
    event.listen(factory, "before_flush", _refuse_flush)
    event.listen(factory, "before_commit", _refuse_commit)
    return factory


def make_web_session_factories(engine: Any) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """The app's (reading, writing) session factories."""
    return read_only_session_factory(make_session_factory(engine)), make_session_factory(engine, writer=True)


def get_session(request: Request) -> Iterator[Session]:
    """A session for reading: its transaction is rolled back when the route has answered."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """The unit of work's rule: `session`'s work is committed when the block ends, rolled back if it raises."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    try:
        # A failure here reaches the app's error handlers: the client gets the error, not the route's answer.
        session.commit()
    except BaseException:
        session.rollback()
        raise


def unit_of_work(request: Request) -> Iterator[Session]:
    """A writing session whose work is committed when the route returns without error, rolled back otherwise."""
    factory: sessionmaker[Session] = request.app.state.write_session_factory
    with factory() as session, committed(session):
        yield session


# scope="function": ended right after the route returns, before the response is sent (see the module's docstring).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(unit_of_work, scope="function")]
