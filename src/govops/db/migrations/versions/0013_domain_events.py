"""events: one outbox for every domain's events; observation changes move into it, keeping their ids;
a webhook subscription's next delivery found by one index probe

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 5000

_event = sa.table(
    "domain_event",
    sa.column("id", sa.BigInteger()),
    sa.column("topic", sa.String()),
    sa.column("type", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("payload", sa.Text()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("recorded_by", sa.String()),
    sa.column("cause", sa.String()),
    sa.column("read_classification", sa.String()),
    sa.column("read_indicator", sa.String()),
    sa.column("read_agency", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "domain_event",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=True),
        sa.Column("read_classification", sa.String(length=16), nullable=False),
        sa.Column("read_indicator", sa.String(length=40), nullable=True),
        sa.Column("read_agency", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_event")),
    )
    op.create_index(op.f("ix_domain_event_cause"), "domain_event", ["cause"])
    op.create_index("ix_domain_event_topic_id", "domain_event", ["topic", "id"])
    _copy_observation_changes()
    op.drop_table("change_event")
    op.create_index(
        "ix_exchange_webhook_delivery_head", "exchange_webhook_delivery", ["subscription_id", "status", "id"]
    )


def _copy_observation_changes() -> None:
    """Every stored change becomes an `observation.changed` event with the same id, so cursors stay valid."""
    conn = op.get_bind()
    query = sa.text(
        "SELECT e.id, i.code, i.classification, e.seq, a.code, e.period, e.dim_key, e.value, e.status, e.version,"
        " e.recorded_at, e.recorded_by, e.submission_id FROM change_event e"
        " JOIN indicator i ON i.id = e.indicator_id JOIN area a ON a.id = e.area_id"
        " WHERE e.id > :after ORDER BY e.id LIMIT :limit"
    ).columns(recorded_at=sa.DateTime(timezone=True))
    after = 0
    while True:
        rows = conn.execute(query, {"after": after, "limit": _BATCH}).all()
        if not rows:
            break
        batch = []
        for id_, code, classification, seq, area, period, dim_key, value, status, version, at, by, sub in rows:
            dims = dict(part.split("=", 1) for part in dim_key.split(";")) if dim_key else {}
            payload = {
                "indicator": code, "seq": seq, "area": area, "period": period, "dims": dims, "value": value,
                "status": status, "version": version, "submission": sub,
            }  # fmt: skip
            batch.append(
                {
                    "id": id_,
                    "topic": "observations",
                    "type": "observation.changed",
                    "subject": f"{code}/{area}/{period}/{dim_key}" if dim_key else f"{code}/{area}/{period}",
                    "payload": json.dumps(payload, ensure_ascii=False),
                    "recorded_at": at,
                    "recorded_by": by,
                    "cause": sub,
                    "read_classification": classification,
                    "read_indicator": code,
                    "read_agency": None,
                }
            )
        conn.execute(_event.insert(), batch)
        after = rows[-1][0]
    if conn.dialect.name == "postgresql":
        # Ids were given explicitly: new events continue after the last one.
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('domain_event', 'id'),"
                " COALESCE((SELECT max(id) FROM domain_event), 0) + 1, false)"
            )
        )


def downgrade() -> None:
    op.drop_index("ix_exchange_webhook_delivery_head", table_name="exchange_webhook_delivery")
    op.create_table(
        "change_event",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("observation_id", _BIG_ID, nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_change_event_area_id_area")),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_change_event_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"], ["observation.id"], name=op.f("fk_change_event_observation_id_observation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        sa.UniqueConstraint("indicator_id", "seq", name=op.f("uq_change_event_indicator_id_seq")),
    )
    op.create_index(op.f("ix_change_event_submission_id"), "change_event", ["submission_id"])
    op.create_index(op.f("ix_change_event_area_id"), "change_event", ["area_id"])
    op.create_index(op.f("ix_change_event_observation_id"), "change_event", ["observation_id"])
    _copy_back()
    op.drop_table("domain_event")


def _copy_back() -> None:
    """Observation changes go back to their own table (other kinds had no place before this revision)."""
    conn = op.get_bind()
    indicators: dict[str, int] = {c: i for c, i in conn.execute(sa.text("SELECT code, id FROM indicator"))}
    areas: dict[str, int] = {c: i for c, i in conn.execute(sa.text("SELECT code, id FROM area"))}
    query = sa.text(
        "SELECT id, payload, recorded_at, recorded_by FROM domain_event"
        " WHERE type = 'observation.changed' AND id > :after ORDER BY id LIMIT :limit"
    ).columns(recorded_at=sa.DateTime(timezone=True))
    find = sa.text(
        "SELECT id FROM observation WHERE indicator_id = :i AND area_id = :a AND period = :p AND dim_key = :k"
    )
    insert = sa.text(
        "INSERT INTO change_event (id, indicator_id, seq, observation_id, area_id, period, dim_key, value, status,"
        " version, recorded_at, recorded_by, submission_id) VALUES (:id, :i, :seq, :o, :a, :p, :k, :v, :s, :ver,"
        " :at, :by, :sub)"
    ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)))
    after = 0
    while True:
        rows = conn.execute(query, {"after": after, "limit": _BATCH}).all()
        if not rows:
            break
        for id_, payload, at, by in rows:
            p = json.loads(payload)
            key = {"i": indicators[p["indicator"]], "a": areas[p["area"]], "p": p["period"]}
            key["k"] = ";".join(f"{d}={c}" for d, c in p["dims"].items())
            observation = conn.execute(find, key).scalar()
            if observation is None:
                continue  # its observation is gone: the old table cannot hold it
            values = {"id": id_, "seq": p["seq"], "o": observation, "v": p["value"], "s": p["status"]}
            conn.execute(insert, {**key, **values, "ver": p["version"], "at": at, "by": by, "sub": p["submission"]})
        after = rows[-1][0]
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('change_event', 'id'),"
                " COALESCE((SELECT max(id) FROM change_event), 0) + 1, false)"
            )
        )
