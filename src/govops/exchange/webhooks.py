"""Webhooks: domain events pushed to members' endpoints, signed, in order, retried, never dropped silently.

Every kind a member may read goes out the same way: observation changes, catalogue changes, and later
tasks and alerts (see govops.events).

Work happens in two steps, each a short transaction, so that any number of workers can share it:
- fan out: for each subscription, the events after its cursor that it may and wants to read become
  one delivery (a batch, in event order) and the cursor moves on;
- deliver: a worker leases the oldest pending delivery of a subscription (a subscription's
  deliveries go one at a time, in order), posts it, and records the outcome. A worker killed
  mid-post leaves a lease that runs out; the delivery is then posted again (at least once: the
  receiver de-duplicates by event id). Failures are retried with exponential backoff; after the
  last attempt the delivery is dead, listed for an operator, and can be replayed.

On PostgreSQL the claim skips rows other workers hold (FOR UPDATE SKIP LOCKED); SQLite writers
take turns anyway.

Each POST carries `Govops-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed by
the subscription's secret, like Stripe's: the receiver recomputes it and refuses old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import case, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from govops.catalog.models import Indicator, IndicatorGroup, indicator_group_member
from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound
from govops.events import service as events
from govops.events.service import Event, Interest
from govops.exchange.models import Member, WebhookDelivery, WebhookSubscription
from govops.exchange.service import readable_by, reads_every_agency

BATCH_EVENTS = 100
# A lease outlives the longest a post may take, so a live worker never loses a delivery to another.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class RetryPolicy:
    first_wait: float = 5.0  # seconds before the second attempt
    longest_wait: float = 1800.0
    attempts: int = 25  # about 11 hours of trying with the defaults

    def wait(self, attempts_made: int) -> timedelta:
        return timedelta(seconds=min(self.first_wait * 2 ** (attempts_made - 1), self.longest_wait))


def subscribe(
    *,
    session: Session,
    member: Member,
    url: str,
    groups: list[str] | None = None,
    indicators: list[str] | None = None,
    areas: list[str] | None = None,
    topics: list[str] | None = None,
) -> WebhookSubscription:
    """A new subscription, starting with the next event; its secret is returned only on this object.

    It is sent every event its member may read, narrowed by `topics` (a topic such as `catalog` or a type
    such as `indicator.updated`), `indicators` and `areas` (only events about them) and `groups` (what
    it reads of the indicators); an empty list narrows nothing.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise GovopsError(
            f"{url!r} is not an http(s) URL", code="invalid_webhook", hint="e.g. https://ioc.hcmc.gov.vn/govops"
        )
    newest = events.newest_id(session=session)
    subscription = WebhookSubscription(
        member_id=member.id,
        url=url,
        secret=secrets.token_hex(32),
        filters=json.dumps(
            {"groups": groups or [], "indicators": indicators or [], "areas": areas or [], "topics": topics or []}
        ),
        active=True,
        cursor_event_id=newest,
        created_at=utcnow(),
    )
    session.add(subscription)
    session.flush()
    return subscription


def unsubscribe(*, session: Session, member: Member, subscription_id: int) -> WebhookSubscription:
    """Stop making deliveries for a subscription; those already made are still sent."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.member_id != member.id:
        raise NotFound(f"{member.code} has no subscription {subscription_id}", hint="see the member's subscriptions")
    subscription.active = False
    session.flush()
    return subscription


def list_subscriptions(*, session: Session, member: Member) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.member_id == member.id)
    return list(session.scalars(stmt.order_by(WebhookSubscription.id)))


def filters_of(subscription: WebhookSubscription) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {"groups": [], "indicators": [], "areas": [], "topics": []}
    filters.update(json.loads(subscription.filters))  # subscriptions made before topics lack them
    return filters


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _interest(
    session: Session, subscription: WebhookSubscription, rights: dict[int, tuple[tuple[str, ...], frozenset[str]]]
) -> Interest:
    """What a subscription gets; `rights` keeps each member's grants for one pass over all subscriptions."""
    if subscription.member_id not in rights:
        rights[subscription.member_id] = readable_by(session=session, member=subscription.member)
    classifications, readable = rights[subscription.member_id]
    wanted = filters_of(subscription)
    codes = set(readable)
    if wanted["groups"]:
        in_groups = set(
            session.scalars(
                select(Indicator.code)
                .join(indicator_group_member, indicator_group_member.c.indicator_id == Indicator.id)
                .join(IndicatorGroup, IndicatorGroup.id == indicator_group_member.c.group_id)
                .where(IndicatorGroup.code.in_(wanted["groups"]))
            )
        )
        codes &= in_groups
    return Interest(
        classifications=frozenset(classifications),
        readable=frozenset(codes),
        indicators=frozenset(wanted["indicators"]),
        areas=frozenset(wanted["areas"]),
        topics=frozenset(wanted["topics"]),
        agency=subscription.member.agency.code,
        any_agency=reads_every_agency(subscription.member),
    )


def has_work(*, session: Session) -> bool:
    """Whether any subscription is active or any delivery still pending."""
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True)).limit(1)
    pending = select(WebhookDelivery.id).where(WebhookDelivery.status == "pending").limit(1)
    return session.scalar(active) is not None or session.scalar(pending) is not None


def fan_out(*, session: Session, now: datetime | None = None) -> int:
    """Turn new events into deliveries for every active subscription; returns how many deliveries were made."""
    now = now or utcnow()
    made = 0
    subscriptions = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.id)
        .with_for_update(skip_locked=True)
    ).all()
    rights: dict[int, tuple[tuple[str, ...], frozenset[str]]] = {}
    for subscription in subscriptions:
        interest = _interest(session, subscription, rights)
        while True:
            page = events.read(
                session=session, after_id=subscription.cursor_event_id, limit=BATCH_EVENTS, interest=interest
            )
            if page.after_id == subscription.cursor_event_id:
                break
            subscription.cursor_event_id = page.after_id
            if page.items:
                session.add(_delivery(subscription, page.items, now))
                made += 1
    session.flush()
    return made


def _delivery(subscription: WebhookSubscription, batch: list[Event], now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        subscription_id=subscription.id,
        first_event_id=batch[0].id,
        last_event_id=batch[-1].id,
        event_count=len(batch),
        payload=json.dumps([e.as_json() for e in batch], ensure_ascii=False),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


@dataclass(frozen=True)
class Lease:
    """A leased delivery with all its post needs, so that posting takes no database connection."""

    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    body: bytes


def claim(
    *,
    session: Session,
    worker: str,
    lease: timedelta,
    now: datetime | None = None,
    limit: int = 10,
    workers: int = 1,
    holding: int = 0,
    run: int = 1,
) -> list[Lease]:
    """Lease due deliveries of at most `limit` subscriptions: each one's oldest pending delivery and up to
    `run` - 1 of the next, to be posted one after another in order; leases come in id order.

    With `workers` sharing the work, one that already holds `holding` subscriptions takes no more than its
    share of the subscriptions that have work: else the first worker up keeps every subscription to itself
    (it leases a subscription's next deliveries in the transaction that records the last ones' answers),
    and the others wait beside it. What it leaves is taken by the others at their next look.

    Only a subscription's oldest pending delivery is ever looked at by a claim, so a lease on it holds the
    whole run: no other worker takes the deliveries behind it while it is leased. `lease` is what one post
    may take; a run of several is leased `run` times as long.
    """
    now = now or utcnow()
    d, s = WebhookDelivery, WebhookSubscription
    # Each subscription's oldest pending delivery (and its `run`-th): index probes per subscription, asked first
    # and on their own, so that the locking query below looks up a few ids by key whatever the planner thinks
    # of the tables' sizes (joined in one statement, it could walk every pending delivery on each claim).
    older = aliased(WebhookDelivery)

    def nth(offset: int) -> Any:
        return (
            select(older.id)
            .where(older.subscription_id == s.id, older.status == "pending")
            .order_by(older.id)
            .offset(offset)
            .limit(1)
            .scalar_subquery()
        )

    probes = session.execute(select(nth(0), nth(min(1, run - 1)), nth(run - 1)).select_from(s)).all()
    # Each head with the last delivery of its run (None: all pending ones behind it); a lone one has itself.
    heads = {head: head if second in (None, head) else last for head, second, last in probes if head is not None}
    limit = min(limit, -(-len(heads) // max(workers, 1)) - holding)
    if not heads or limit <= 0:
        return []
    lone = [head for head, last in heads.items() if last == head] or [0]
    # Locked, leased and read back in one statement: the rows another worker holds are skipped.
    c = aliased(WebhookDelivery)
    returning = (
        d.id,
        d.subscription_id,
        d.payload,
        select(s.url).where(s.id == d.subscription_id).scalar_subquery(),
        select(s.secret).where(s.id == d.subscription_id).scalar_subquery(),
    )
    leased = list(
        session.execute(
            update(d)
            .where(
                d.id.in_(
                    select(c.id)
                    .where(
                        c.id.in_(heads),
                        # Checked on the row itself too: PostgreSQL re-checks these conditions on a row that another
                        # worker changed while this statement ran, but not the subquery, which saw the row pending.
                        c.status == "pending",
                        c.next_attempt_at <= now,
                        (c.locked_until.is_(None)) | (c.locked_until < now),
                    )
                    .order_by(c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .values(
                locked_by=worker,
                # A lone delivery's lease is one post's; a run's lasts as long as posting all of it may take.
                locked_until=case((d.id.in_(lone), now + lease), else_=now + lease * run),
                attempts=d.attempts + 1,
            )
            .returning(*returning)
            .execution_options(synchronize_session=False)
        ).all()
    )
    runs = [
        (d.subscription_id == subscription_id) & (d.id > head) & ((d.id <= heads[head]) if heads[head] else true())
        for head, subscription_id, *_ in leased
        if run > 1 and heads[head] != head
    ]
    if runs:
        # The deliveries behind each leased head, up to the run's last: held by the head's lease already.
        leased += session.execute(
            update(d)
            .where(d.status == "pending", or_(*runs))
            .values(locked_by=worker, locked_until=now + lease * run, attempts=d.attempts + 1)
            .returning(*returning)
            .execution_options(synchronize_session=False)
        ).all()
    due = sorted(leased, key=lambda row: int(row[0]))
    # The stored payload is already the JSON of the events: framed as text, not parsed and dumped again.
    return [
        Lease(delivery_id, subscription_id, url, secret,
              f'{{"delivery":{delivery_id},"subscription":{subscription_id},"events":{payload}}}'.encode())
        for delivery_id, subscription_id, payload, url, secret in due
    ]  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: int | None
    error: str | None
    # False for a delivery of a run left unposted because one before it failed: its lease is given back.
    posted: bool = True

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Poster:
    """Posts leased deliveries over kept-alive connections, one set per sending thread.

    A plain `http.client` connection costs about a sixth of the CPU time of a general-purpose client per
    post, and the worker's CPU is what limits how many deliveries a machine sends. Redirects are not
    followed (a receiver that moved says so by failing); `timeout` bounds connecting and each read.
    """

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        connection = pool.get((scheme, netloc))
        if connection is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = kind(netloc, timeout=self.timeout)
            pool[(scheme, netloc)] = connection
            with self._lock:
                self._all.append(connection)
        return connection

    def _drop(self, scheme: str, netloc: str) -> None:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.get("pool", {})
        connection = pool.pop((scheme, netloc), None)
        if connection is not None:
            connection.close()
            with self._lock:
                self._all.remove(connection)

    def post(self, lease: Lease) -> Outcome:
        """Send one leased delivery (outside any transaction: the caller commits the claim first)."""
        parsed = urlparse(lease.url)
        target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
        headers = {
            "Content-Type": "application/json",
            "Govops-Signature": signature(lease.secret, lease.body, int(time.time())),
            "Govops-Delivery": str(lease.delivery_id),
            "Host": parsed.netloc,
        }
        for attempt in (1, 2):
            connection = self._connection(parsed.scheme, parsed.netloc)
            reused = connection.sock is not None
            try:
                connection.request("POST", target, body=lease.body, headers=headers)
                response = connection.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parsed.scheme, parsed.netloc)
                # A kept-alive connection the receiver closed meanwhile fails before any answer: once more
                # on a new one (should the receiver have taken the post after all, it de-duplicates by id).
                if reused and attempt == 1 and isinstance(exc, (ConnectionError, http.client.RemoteDisconnected)):
                    continue
                return Outcome(lease.delivery_id, None, f"{type(exc).__name__}: {exc}"[:500])
            if response.will_close:
                self._drop(parsed.scheme, parsed.netloc)
            ok = 200 <= response.status < 300
            return Outcome(lease.delivery_id, response.status, None if ok else text[:500].decode(errors="replace"))
        raise AssertionError("unreachable")  # pragma: no cover

    def post_run(self, leases: Sequence[Lease]) -> list[Outcome]:
        """Post one subscription's leased deliveries in order, stopping at the first that fails.

        The ones after a failure are not sent (they would overtake it): their outcomes say so.
        """
        outcomes: list[Outcome] = []
        for lease in leases:
            if outcomes and not outcomes[-1].ok:
                outcomes.append(Outcome(lease.delivery_id, None, None, posted=False))
            else:
                outcomes.append(self.post(lease))
        return outcomes

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()


def settle(
    *, session: Session, outcomes: Sequence[Outcome], worker: str, policy: RetryPolicy, now: datetime | None = None
) -> dict[int, str]:
    """Record attempts' outcomes; returns each delivery's status afterwards.

    A worker whose lease ran out before it got here no longer owns the delivery: another worker
    has taken it up, and its outcome is the one that counts. Deliveries that went through are
    settled by one statement per answer code (nearly always one in all), failures one by one.
    """
    if not outcomes:
        return {}
    now = now or utcnow()
    d = WebhookDelivery
    statuses: dict[int, str] = {}
    by_code: dict[int, list[int]] = {}
    for outcome in outcomes:
        if outcome.ok:
            by_code.setdefault(outcome.status or 200, []).append(outcome.delivery_id)
    for code, ids in sorted(by_code.items()):
        # The owner check sits in the statement: PostgreSQL re-checks it on a row another worker changed meanwhile.
        settled = session.execute(
            update(d)
            .where(d.id.in_(sorted(ids)), d.locked_by == worker)
            .values(status="delivered", delivered_at=now, last_status=code, last_error=None, locked_by=None,
                    locked_until=None)
            .returning(d.id)
            .execution_options(synchronize_session=False)
        ).scalars()  # fmt: skip
        statuses.update(dict.fromkeys(settled, "delivered"))
    unposted = sorted(o.delivery_id for o in outcomes if not o.posted)
    if unposted:
        # Left unsent behind a failure: leased again later, the attempt counted at the lease taken back.
        released = session.execute(
            update(d)
            .where(d.id.in_(unposted), d.locked_by == worker)
            .values(locked_by=None, locked_until=None, attempts=d.attempts - 1)
            .returning(d.id)
            .execution_options(synchronize_session=False)
        ).scalars()
        statuses.update(dict.fromkeys(released, "pending"))
    failed = sorted((o.delivery_id, o) for o in outcomes if o.posted and not o.ok)
    if failed:
        rows = session.execute(
            select(d.id, d.attempts).where(d.id.in_([i for i, _ in failed]), d.locked_by == worker).with_for_update()
        ).all()
        attempts = dict(rows)
        for delivery_id, outcome in failed:
            if delivery_id not in attempts:
                continue
            values: dict[str, Any] = {"last_status": outcome.status, "last_error": outcome.error}
            if attempts[delivery_id] >= policy.attempts:
                values["status"] = "dead"
            else:
                values["next_attempt_at"] = now + policy.wait(attempts[delivery_id])
            session.execute(
                update(d).where(d.id == delivery_id).values(locked_by=None, locked_until=None, **values),
                execution_options={"synchronize_session": False},
            )
            statuses[delivery_id] = values.get("status", "pending")
    others = [o.delivery_id for o in outcomes if o.delivery_id not in statuses]
    if others:  # settled by the worker that took them over
        statuses.update({i: status for i, status in session.execute(select(d.id, d.status).where(d.id.in_(others)))})
    session.flush()
    return statuses


def dead_letters(*, session: Session, member: Member | None = None) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.status == "dead").order_by(WebhookDelivery.id)
    if member is not None:
        stmt = stmt.join(WebhookSubscription).where(WebhookSubscription.member_id == member.id)
    return list(session.scalars(stmt))


def replay(*, session: Session, delivery_id: int, now: datetime | None = None) -> WebhookDelivery:
    """Send a dead (or delivered) delivery again, from its first attempt."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}", hint="list dead deliveries with `govops exchange deliveries`")
    delivery.status, delivery.attempts = "pending", 0
    delivery.next_attempt_at, delivery.locked_by, delivery.locked_until = now or utcnow(), None, None
    session.flush()
    return delivery


def summary(*, session: Session) -> list[dict[str, Any]]:
    """Per subscription: pending, delivered and dead deliveries, and the oldest pending one's age."""
    d = WebhookDelivery
    rows = session.execute(
        select(d.subscription_id, d.status, func.count(), func.min(d.created_at)).group_by(d.subscription_id, d.status)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for subscription_id, status, count, oldest in rows:
        entry = out.setdefault(subscription_id, {"subscription": subscription_id, "oldest_pending": None})
        entry[status] = count
        if status == "pending":
            entry["oldest_pending"] = oldest
    return [out[k] for k in sorted(out)]
