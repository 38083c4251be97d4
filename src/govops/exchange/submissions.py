"""Inbound submissions: a member's body checked against the catalogue and its rights, then stored whole or not at all.

The submission row is inserted first, so that a second request with the same Idempotency-Key waits
on its unique key (PostgreSQL) or on the write lock (SQLite) and then finds the first receipt. The
observations, their revisions, roll-ups and change events, the audit entry and the receipt are all
in the caller's one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops import i18n, signing
from govops.audit.service import record
from govops.catalog.models import GOVERNMENT_OFFICE, Agency, Indicator, indicator_group_member
from govops.catalog.version import kept_by_stamp
from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound, Problem, lazy_gettext
from govops.exchange.models import Grant, Member, Submission
from govops.exchange.service import Unauthorized
from govops.interop import readers
from govops.interop.mapping.service import get_mapping
from govops.interop.models import InteropMapping
from govops.interop.tally import Tally
from govops.warehouse.accept import Outcome, accept
from govops.warehouse.areas import AreaTree
from govops.warehouse.service import stored_values
from govops.warehouse.validation import RawRow, ValidRow

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Incoming:
    body: bytes
    content_type: str | None
    idempotency_key: str | None
    signature: str | None
    request_id: str | None = None
    ip: str | None = None
    mapping: str | None = None  # the stored mapping an SDMX message or a DHIS2 data value set is read with
    user: str | None = None  # the console user who uploaded it, when it came from the console
    file_name: str | None = None


def submit(
    *, session: Session, member: Member, incoming: Incoming, server_key: Ed25519PrivateKey, max_rows: int
) -> tuple[Submission, bool]:
    """The stored submission and whether it is the earlier answer to the same request (a replay)."""
    key = _idempotency_key(incoming.idempotency_key)
    fmt = readers.format_of(incoming.content_type)
    digest = hashlib.sha256(incoming.body).hexdigest()
    earlier = session.scalar(
        select(Submission).where(Submission.member_id == member.id, Submission.idempotency_key == key)
    )
    if earlier is not None:
        if earlier.body_sha256 != digest:
            raise GovopsError(
                f"Idempotency-Key {key!r} was used for another body (submission {earlier.id})",
                code="idempotency_conflict",
                status=409,
                hint="use a new key for new data; send the same body to get the first receipt again",
            )
        return earlier, True
    _check_signature(member, incoming)
    mapping = _mapping(session, incoming, fmt)
    now = utcnow()
    submission = Submission(
        id=uuid.uuid4().hex,
        member_id=member.id,
        idempotency_key=key,
        body_sha256=digest,
        content_type=fmt,
        status="processing",
        received=0, created=0, updated=0, unchanged=0, rejected=0,
        problems="[]",
        client_signature=incoming.signature,
        server_signature="",
        server_key_id=signing.key_id(server_key),
        received_at=now,
        request_id=incoming.request_id,
        mapping=incoming.mapping,
        file_name=incoming.file_name,
        submitted_by=incoming.user,
    )  # fmt: skip
    session.add(submission)
    session.flush()
    checked = _checked(
        session, member, incoming, fmt, mapping, max_rows=max_rows, now=now, submission_id=submission.id, write=True
    )
    tally, outcome, problems, warnings = checked.tally, checked.outcome, checked.problems, checked.warnings
    submission.received, submission.skipped = tally.received, tally.skipped
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field or ""))
        submission.status = "rejected"
        # A problem without a row (the body, the mapping) stands for every value received.
        rows_rejected = len({p.row for p in problems if p.row is not None}) + tally.unreported
        whole = any(p.row is None for p in problems)
        submission.rejected = submission.received if whole else min(rows_rejected, submission.received)
    else:
        assert outcome.summary is not None
        submission.status = "accepted"
        submission.created, submission.updated, submission.unchanged = (
            outcome.summary.created,
            outcome.summary.updated,
            outcome.summary.unchanged,
        )
    submission.problems = stored_problems(problems, warnings)
    submission.server_signature = signing.sign(server_key, signed_content(submission, member.code))
    record(
        session=session,
        action="submission." + submission.status,
        # A person who submitted through the console (upload, or the API signed in) answers for it, not the system.
        actor_kind="user" if incoming.user else "member",
        actor=incoming.user or member.code,
        agency=member.agency.code,
        target=submission.id,
        detail={
            "received": submission.received,
            "created": submission.created,
            "updated": submission.updated,
            "unchanged": submission.unchanged,
            "rejected": submission.rejected,
            **({"skipped": submission.skipped} if submission.skipped else {}),
            "body_sha256": digest,
            **({"mapping": incoming.mapping} if incoming.mapping else {}),
            **({"member": member.code} if incoming.user else {}),
            **({"file": incoming.file_name} if incoming.file_name else {}),
        },
        ip=incoming.ip,
        request_id=incoming.request_id,
        at=now,
    )
    session.flush()
    return submission, False


@dataclass(frozen=True)
class _Checked:
    tally: Tally
    outcome: Outcome
    problems: list[Problem]  # placed: each names its sheet and cell, series or data element
    warnings: list[Problem]
    places: dict[int, str]  # where each row was read from, when its number alone does not say


def _mapping(session: Session, incoming: Incoming, fmt: str) -> InteropMapping | None:
    mapping = get_mapping(session=session, name=incoming.mapping) if incoming.mapping else None
    readers.check(fmt=fmt, mapping=mapping)
    return mapping


def _checked(
    session: Session,
    member: Member,
    incoming: Incoming,
    fmt: str,
    mapping: InteropMapping | None,
    *,
    max_rows: int,
    now: datetime,
    submission_id: str | None,
    write: bool,
) -> _Checked:
    """The body read, checked, authorised and ruled on; written too when `write` and nothing is wrong."""
    tally = Tally()
    rows, problems, places = _parse(incoming.body, fmt, mapping, incoming.file_name or "submission", tally)
    if len(rows) > max_rows:
        raise GovopsError.of(
            "too_large",
            lazy_gettext("%(count)s values in one file; the limit is %(limit)s"),
            lazy_gettext("split the figures over several files"),
            status=413,
            count=len(rows),
            limit=max_rows,
        )
    outcome = accept(
        session=session,
        rows=rows,
        rights=WriteRights(session, member),
        recorded_by=member.code,
        now=now,
        submission_id=submission_id,
        dry_run=bool(problems) or not write,  # the body itself could not be read: nothing to write
    )
    problems += [readers.placed(p, places) for p in outcome.problems]
    warnings = [readers.placed(p, places) for p in outcome.warnings]
    return _Checked(tally=tally, outcome=outcome, problems=problems, warnings=warnings, places=places)


@dataclass(frozen=True)
class Change:
    """One value of a previewed upload: where it goes, what is stored there now (None: nothing) and what comes."""

    indicator: str
    area: str
    period: str
    dims: str
    old: float | None
    new: float
    decimals: int
    where: str | None  # the sheet and cell (or row) it was read from

    @property
    def percent(self) -> float | None:
        """The change in percent of the old value; None without an old value, or when it is zero."""
        if self.old is None or self.old == 0:
            return None
        return (self.new - self.old) / abs(self.old) * 100


@dataclass(frozen=True)
class Plan:
    """What a submission would do, before anything is stored: its problems, or its new, changed and unchanged values
    with the warnings of the quality rules. `digest` names the plan: the same body on the same stored values gives
    the same digest, so a confirmation can tell that the store moved since the preview."""

    received: int
    skipped: int
    problems: list[Problem]
    warnings: list[Problem]
    new: list[Change]
    changed: list[Change]  # a new value, or the same value with another status or source
    unchanged: int
    body_sha256: str
    digest: str

    @property
    def accepted(self) -> bool:
        return not self.problems


def plan(*, session: Session, member: Member, incoming: Incoming, max_rows: int) -> Plan:
    """What `submit` would do with `incoming`, without storing anything (raises GovopsError as `submit` does for a
    body that cannot be taken at all: its type, its mapping, its size)."""
    fmt = readers.format_of(incoming.content_type)
    _check_signature(member, incoming)
    mapping = _mapping(session, incoming, fmt)
    checked = _checked(
        session, member, incoming, fmt, mapping, max_rows=max_rows, now=utcnow(), submission_id=None, write=False
    )
    body_sha256 = hashlib.sha256(incoming.body).hexdigest()
    digest = hashlib.sha256(body_sha256.encode())
    if checked.problems:
        checked.problems.sort(key=lambda p: (p.row or 0, p.field or ""))
        return Plan(checked.tally.received, checked.tally.skipped, checked.problems, checked.warnings, [], [], 0,
                    body_sha256, digest.hexdigest())  # fmt: skip
    rows = checked.outcome.valid
    stored = stored_values(session=session, rows=rows)
    names = _names(session, rows)
    new: list[Change] = []
    changed: list[Change] = []
    unchanged = 0
    for row in rows:
        key = (row.indicator_id, row.area_id, row.period, row.dim_key)
        found = stored.get(key)
        before = None if found is None else (found[1], found[2], found[3])
        after = (row.value, row.status, row.source_agency_id)
        digest.update(json.dumps([key, before, after]).encode())
        if before == after:
            unchanged += 1
            continue
        code, decimals = names.indicators[row.indicator_id]
        change = Change(
            indicator=code,
            area=names.areas[row.area_id],
            period=row.period,
            dims=row.dim_key,
            old=None if found is None else found[1],
            new=row.value,
            decimals=decimals,
            where=checked.places.get(row.row),
        )
        (new if found is None else changed).append(change)
    return Plan(checked.tally.received, checked.tally.skipped, [], checked.warnings, new, changed, unchanged,
                body_sha256, digest.hexdigest())  # fmt: skip


@dataclass(frozen=True)
class _Names:
    indicators: dict[int, tuple[str, int]]  # id -> code, decimals
    areas: dict[int, str]  # id -> code


def _names(session: Session, rows: Sequence[ValidRow]) -> _Names:
    ids = {row.indicator_id for row in rows}
    indicators = {
        ind_id: (code, decimals)
        for ind_id, code, decimals in session.execute(
            select(Indicator.id, Indicator.code, Indicator.decimals).where(Indicator.id.in_(ids))
        )
    }
    tree = AreaTree.cached(session)
    return _Names(indicators, {row.area_id: tree.nodes[row.area_id].code for row in rows})


def _signed_fields(submission: Submission, member_code: str) -> dict[str, Any]:
    return {
        "id": submission.id,
        "member": member_code,
        "idempotency_key": submission.idempotency_key,
        "body_sha256": submission.body_sha256,
        "status": submission.status,
        "received": submission.received,
        "created": submission.created,
        "updated": submission.updated,
        "unchanged": submission.unchanged,
        "rejected": submission.rejected,
        # Only when some were: receipts signed before the count existed still verify.
        **({"skipped": submission.skipped} if submission.skipped else {}),
        # As the receipt shows it (UTC, "Z"), so that a client can check the signature from the receipt alone.
        "received_at": submission.received_at.isoformat().replace("+00:00", "Z"),
    }


def signed_content(submission: Submission, member_code: str) -> bytes:
    """What the server's receipt signature covers: canonical JSON (sorted keys, no spaces, UTF-8)."""
    content = _signed_fields(submission, member_code)
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def get_submission(*, session: Session, member: Member | None, submission_id: str) -> Submission:
    """A submission, for the member that sent it (or, with member None, for a console user who may see it)."""
    found = session.get(Submission, submission_id) if re.fullmatch(r"[0-9a-f]{32}", submission_id) else None
    if found is None or (member is not None and found.member_id != member.id):
        raise NotFound(f"no submission {submission_id!r}", hint="use the id of a receipt you were given")
    return found


def _idempotency_key(value: str | None) -> str:
    if value is None or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise GovopsError(
            "an Idempotency-Key header of 1 to 200 visible ASCII characters is required",
            code="idempotency_key_required",
            hint="send a new random key (e.g. a UUID) per submission, and the same key when retrying it",
        )
    return value


def _check_signature(member: Member, incoming: Incoming) -> None:
    if member.public_key is None:
        if incoming.signature is not None:
            raise GovopsError(
                f"{member.code} sent a signature but registered no public key",
                code="signature_unexpected",
                hint="register the Ed25519 public key first, or leave X-Govops-Signature out",
            )
        return
    if incoming.signature is None:
        raise Unauthorized(
            f"{member.code} signs its submissions: the X-Govops-Signature header is missing",
            hint="sign the exact body bytes with the member's Ed25519 key and send the signature in base64",
        )
    if not signing.verifies(member.public_key, incoming.signature, incoming.body):
        raise Unauthorized(
            "the signature does not verify against the body and the member's public key",
            hint="sign the exact bytes sent, after any compression is undone, with the registered key",
        )


def _parse(
    body: bytes, fmt: str, mapping: InteropMapping | None, where: str, tally: Tally
) -> tuple[list[tuple[int, RawRow]], list[Problem], dict[int, str]]:
    try:
        rows = readers.read_body(body, fmt=fmt, mapping=mapping, where=where, tally=tally)
    except GovopsError as exc:
        return [], [readers.problem_of(exc)], {}
    return list(rows), [], readers.places(rows)


@dataclass(frozen=True)
class _RightsCatalogue:
    """What write rights are judged against besides a member's grants, kept per catalogue stamp."""

    groups: Mapping[int, frozenset[int]]  # indicator ids by group id
    agencies: Mapping[int, str]  # agency codes by id
    indicators: Mapping[int, tuple[str, int]]  # (code, owner agency id) by indicator id

    @classmethod
    def read(cls, session: Session) -> _RightsCatalogue:
        groups: dict[int, set[int]] = defaultdict(set)
        for indicator_id, group_id in session.execute(
            select(indicator_group_member.c.indicator_id, indicator_group_member.c.group_id)
        ):
            groups[group_id].add(indicator_id)
        return cls(
            groups={group_id: frozenset(ids) for group_id, ids in groups.items()},
            agencies={agency_id: code for agency_id, code in session.execute(select(Agency.id, Agency.code))},
            indicators={
                ind_id: (code, owner_id)
                for ind_id, code, owner_id in session.execute(select(Indicator.id, Indicator.code, Indicator.owner_id))
            },
        )


_RIGHTS_CATALOGUES: dict[str, _RightsCatalogue] = {}


class WriteRights:
    """What a member may write: indicators of groups granted for writing; then its own indicators (a ministry)
    or its own province's areas (a provincial people's committee); with its own agency as the source, unless
    the grant of the indicator's group is also for other agencies (or the member is the Government Office's).

    Checked on validated rows, by id: whatever spelling a code came in (spaces, a number, another Unicode
    form), the row is judged by the indicator, area and source it would be stored under.
    """

    def __init__(self, session: Session, member: Member) -> None:
        self.member = member
        # The grants are read for every batch (a grant revoked is refused from the very next one); what they
        # are judged against (groups' indicators, owners, agencies) is kept until the catalogue changes.
        grants = dict(
            session.execute(
                select(Grant.group_id, Grant.for_others).where(Grant.member_id == member.id, Grant.can_write.is_(True))
            ).all()
        )
        catalogue = kept_by_stamp(session, _RIGHTS_CATALOGUES, _RightsCatalogue.read)
        self.writable = {i for group_id in grants for i in catalogue.groups.get(group_id, ())}
        self.for_others = {
            i for group_id, others in grants.items() if others for i in catalogue.groups.get(group_id, ())
        }
        self.agencies = catalogue.agencies
        self.indicators = catalogue.indicators
        agency = member.agency
        self.tree = AreaTree.cached(session)
        self.own_areas = self.tree.subtree(agency.area_id) if agency.area_id is not None else None
        self.province = self.tree.nodes[agency.area_id].code if agency.area_id is not None else None
        # The Government Office's members may name any agency as a row's source.
        self.any_source = agency.kind == GOVERNMENT_OFFICE

    @property
    def source_id(self) -> int:
        """The source of rows that name none: the sender's agency."""
        return self.member.agency_id

    def problems(self, rows: Sequence[ValidRow]) -> list[Problem]:
        return [found for row in rows if (found := self._problem(row)) is not None]

    def _problem(self, row: ValidRow) -> Problem | None:
        code, owner_id = self.indicators[row.indicator_id]
        member, agency = self.member.code, self.member.agency.code
        if row.indicator_id not in self.writable:
            return Problem.of(
                "indicator.not_writable",
                lazy_gettext("%(member)s may not submit %(indicator)s"),
                lazy_gettext("ask the Government Office for write access to a group that holds it"),
                row=row.row,
                field="indicator",
                value=code,
                member=member,
                indicator=code,
            )
        if self.own_areas is None and owner_id != self.member.agency_id:
            owner = self.agencies.get(owner_id, "?")
            return Problem.of(
                "indicator.not_owned",
                lazy_gettext("%(indicator)s belongs to %(owner)s; %(agency)s submits only the indicators it owns"),
                lazy_gettext("%(owner)s submits %(indicator)s"),
                row=row.row,
                field="indicator",
                value=code,
                indicator=code,
                owner=owner,
                agency=agency,
            )
        if self.own_areas is not None and row.area_id not in self.own_areas:
            area = self.tree.nodes[row.area_id].code
            return Problem.of(
                "area.not_writable",
                lazy_gettext("%(member)s submits data of province %(province)s and its wards only, not of %(area)s"),
                lazy_gettext("use area %(province)s or one of its wards"),
                row=row.row,
                field="area",
                value=area,
                member=member,
                province=self.province,
                area=area,
            )
        if (
            row.source_agency_id != self.member.agency_id
            and not self.any_source
            and row.indicator_id not in self.for_others
        ):
            source = self.agencies.get(row.source_agency_id or 0, "?")
            return Problem.of(
                "source.not_writable",
                lazy_gettext("%(member)s submits as %(agency)s, not as %(source)s"),
                lazy_gettext(
                    "leave the source empty (it is %(agency)s), let %(source)s submit its own figures, or ask the "
                    "Government Office for a grant for other agencies"
                ),
                row=row.row,
                field="source",
                value=source,
                member=member,
                agency=agency,
                source=source,
            )
        return None


# A warning is stored beside the problems, marked, so that receipts need no column of their own.
_WARNING = "warning"


def stored_problems(problems: Sequence[Problem], warnings: Sequence[Problem]) -> str:
    """The submission's `problems` column: the problems, then the warnings (marked)."""
    entries = [p.stored() for p in problems] + [{**w.stored(), _WARNING: True} for w in warnings]
    return json.dumps(entries, ensure_ascii=False, default=str)


def stored_entries(submission: Submission) -> tuple[list[Problem], list[Problem]]:
    """The submission's problems and warnings as they were found (with their wording, for any language)."""
    entries = json.loads(submission.problems)
    problems = [Problem(**entry) for entry in entries if not entry.get(_WARNING)]
    warnings = [
        Problem(**{k: v for k, v in entry.items() if k != _WARNING}) for entry in entries if entry.get(_WARNING)
    ]
    return problems, warnings


def receipt(submission: Submission, *, locale: str = "en") -> dict[str, Any]:
    """The receipt, its problems worded in `locale` (field names and codes stay as they are)."""
    # Through Problem again, so that receipts stored before problems were made JSON-safe (a NaN value,
    # a lone surrogate) are still shown rather than failing the response.
    problems, warnings = stored_entries(submission)
    return {
        **_signed_fields(submission, submission.member.code),
        # Outside the signed fields: receipts signed before it was kept still verify.
        "submitted_by": submission.submitted_by,
        "client_signature": submission.client_signature,
        "server_signature": submission.server_signature,
        "server_key_id": submission.server_key_id,
        "problems": [i18n.worded(p, locale).as_dict() for p in problems],
        "warnings": [i18n.worded(w, locale).as_dict() for w in warnings],
    }
