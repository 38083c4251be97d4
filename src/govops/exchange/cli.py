"""`govops exchange ...`: register agency systems, issue their API keys, grant them indicator groups."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from govops.audit.service import record_cli
from govops.commandline import writing_session
from govops.exchange.models import Grant
from govops.exchange.service import IssuedKey

exchange_app = typer.Typer(help="Data exchange: member systems, API keys, access rights.", no_args_is_help=True)
out = Console()

MemberCode = Annotated[str, typer.Argument(help="member code, AGENCY/system, e.g. MOF/tabmis")]


@exchange_app.command("members")
def members() -> None:
    """List member systems with their keys and grants."""
    from govops.exchange import service

    with writing_session() as session:
        table = Table("member", "name", "clearance", "signs", "keys", "grants", "last contact")
        for m in service.list_members(session=session):
            live = [k for k in service.list_keys(session=session, member=m) if k.revoked_at is None]
            grants = service.list_grants(session=session, member=m)
            table.add_row(
                m.code + ("" if m.active else " (disabled)"),
                m.name,
                m.clearance,
                "yes" if m.public_key else "no",
                ", ".join(f"{k.prefix} (to {k.expires_at:%Y-%m-%d})" for k in live) or "-",
                ", ".join(f"{g.group.code}:{_rights(g)}" for g in grants) or "-",
                f"{m.last_contact_at:%Y-%m-%d %H:%M}" if m.last_contact_at else "never",
            )
        out.print(table)


@exchange_app.command("add")
def add(
    agency: Annotated[str, typer.Argument(help="agency code, e.g. MOF or PC-79")],
    system: Annotated[str, typer.Argument(help="the system's code within the agency, e.g. tabmis")],
    name: Annotated[str, typer.Option(help="a readable name")] = "",
    clearance: Annotated[str, typer.Option(help="public, internal or confidential")] = "internal",
    public_key: Annotated[str | None, typer.Option(help="Ed25519 public key (32 bytes, base64)")] = None,
) -> None:
    """Register a member system and issue its first API key (shown once)."""
    from govops.exchange import service

    with writing_session() as session:
        member = service.create_member(
            session=session, agency=agency, system=system, name=name, clearance=clearance, public_key=public_key
        )
        issued = service.issue_key(session=session, member=member)
        record_cli(
            session=session,
            action="member.add",
            target=member.code,
            detail={"clearance": clearance, "signs": public_key is not None, "key": issued.prefix},
        )
    out.print(f"member {member.code} registered")
    _show(issued, member.code)


@exchange_app.command("key")
def key(
    member: MemberCode,
    days: Annotated[int, typer.Option(help="how long the key lasts")] = 365,
    rotate: Annotated[str | None, typer.Option(help="prefix of the key it replaces (that one ends in 7 days)")] = None,
) -> None:
    """Issue another API key for a member (shown once)."""
    from govops.exchange import service

    with writing_session() as session:
        found = service.get_member(session=session, code=member)
        if rotate:
            issued = service.rotate_key(session=session, member=found, old_prefix=rotate)
        else:
            issued = service.issue_key(session=session, member=found, days=days)
        record_cli(session=session, action="key.issue", target=member, detail={"key": issued.prefix, "rotates": rotate})
    _show(issued, member)


def _show(issued: IssuedKey, member: str) -> None:
    out.print(f"API key of {member} (shown only now, keep it secret):")
    out.print(issued.key, highlight=False)
    out.print(f"it expires on {issued.expires_at:%Y-%m-%d}")


@exchange_app.command("revoke-key")
def revoke_key(member: MemberCode, prefix: Annotated[str, typer.Argument(help="the key's prefix")]) -> None:
    """Revoke an API key at once."""
    from govops.exchange import service

    with writing_session() as session:
        service.revoke_key(session=session, member=service.get_member(session=session, code=member), prefix=prefix)
        record_cli(session=session, action="key.revoke", target=member, detail={"key": prefix})
    out.print(f"key {prefix} of {member} revoked")


def _rights(grant: Grant) -> str:
    """r, w, and + when the member may also write as other agencies, e.g. `rw+`."""
    return ("r" if grant.can_read else "") + ("w" if grant.can_write else "") + ("+" if grant.for_others else "")


@exchange_app.command("grant")
def grant(
    member: MemberCode,
    group: Annotated[str, typer.Argument(help="indicator group code, e.g. PUBLIC_FINANCE")],
    read: Annotated[bool, typer.Option("--read", help="may read the group's indicators")] = False,
    write: Annotated[bool, typer.Option("--write", help="may submit the group's indicators")] = False,
    for_others: Annotated[
        bool, typer.Option("--for-others", help="with --write: may name another agency as the figures' source")
    ] = False,
) -> None:
    """Let a member read and/or write an indicator group (replaces its earlier grant on that group)."""
    from govops.exchange import service

    with writing_session() as session:
        found = service.get_member(session=session, code=member)
        service.grant(session=session, member=found, group=group, read=read, write=write, for_others=for_others)
        detail = {"group": group, "read": read, "write": write, **({"for_others": True} if for_others else {})}
        record_cli(session=session, action="grant.add", target=member, detail=detail)
    rights = " and ".join(r for r, on in (("read", read), ("write", write)) if on)
    rights += " (also as other agencies' figures)" if for_others else ""
    out.print(f"{member} may now {rights} {group}")


@exchange_app.command("revoke")
def revoke(member: MemberCode, group: Annotated[str, typer.Argument(help="indicator group code")]) -> None:
    """Take back a member's rights on an indicator group."""
    from govops.exchange import service

    with writing_session() as session:
        service.revoke(session=session, member=service.get_member(session=session, code=member), group=group)
        record_cli(session=session, action="grant.revoke", target=member, detail={"group": group})
    out.print(f"{member} has no more rights on {group}")


@exchange_app.command("subscribe")
def subscribe(
    member: MemberCode,
    url: Annotated[str, typer.Argument(help="the member's endpoint, e.g. https://ioc.hcmc.gov.vn/govops")],
    group: Annotated[list[str] | None, typer.Option(help="only indicators of this group (repeatable)")] = None,
    indicator: Annotated[list[str] | None, typer.Option(help="only this indicator (repeatable)")] = None,
    area: Annotated[list[str] | None, typer.Option(help="only this area (repeatable)")] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(help="only this topic (observations, catalog) or event type (indicator.updated); repeatable"),
    ] = None,
) -> None:
    """Send a member's endpoint every event it may read from now on; prints the signing secret once."""
    from govops.exchange import service, webhooks

    with writing_session() as session:
        found = service.get_member(session=session, code=member)
        subscription = webhooks.subscribe(
            session=session, member=found, url=url, groups=group, indicators=indicator, areas=area, topics=topic
        )
        record_cli(session=session, action="webhook.add", target=member, detail={"url": url, "id": subscription.id})
    out.print(f"webhook {subscription.id} of {member} -> {url}")
    out.print("signing secret (shown only now; the receiver checks Govops-Signature with it):")
    out.print(subscription.secret, highlight=False)


@exchange_app.command("unsubscribe")
def unsubscribe(
    member: MemberCode,
    subscription: Annotated[int, typer.Argument(help="the webhook's number, as `subscribe` printed it")],
) -> None:
    """Stop a webhook: no new deliveries are made for it; those already made are still sent."""
    from govops.exchange import service, webhooks

    with writing_session() as session:
        found = service.get_member(session=session, code=member)
        webhooks.unsubscribe(session=session, member=found, subscription_id=subscription)
        record_cli(session=session, action="webhook.stop", target=member, detail={"id": subscription})
    out.print(f"webhook {subscription} of {member} stopped")


@exchange_app.command("deliveries")
def deliveries(dead: Annotated[bool, typer.Option("--dead", help="list the dead deliveries")] = False) -> None:
    """Webhook deliveries per subscription, or the dead ones (to replay)."""
    from govops.exchange import webhooks

    with writing_session() as session:
        if dead:
            table = Table("delivery", "subscription", "events", "attempts", "last status", "last error")
            for d in webhooks.dead_letters(session=session):
                table.add_row(
                    str(d.id),
                    str(d.subscription_id),
                    f"{d.first_event_id}..{d.last_event_id} ({d.event_count})",
                    str(d.attempts),
                    str(d.last_status or "-"),
                    (d.last_error or "")[:60],
                )
        else:
            table = Table("subscription", "pending", "delivered", "dead", "oldest pending")
            for row in webhooks.summary(session=session):
                oldest = row["oldest_pending"]
                table.add_row(
                    str(row["subscription"]),
                    str(row.get("pending", 0)),
                    str(row.get("delivered", 0)),
                    str(row.get("dead", 0)),
                    f"{oldest:%Y-%m-%d %H:%M:%S}" if oldest else "-",
                )
        out.print(table)


@exchange_app.command("replay")
def replay(delivery: Annotated[int, typer.Argument(help="delivery id (see `deliveries --dead`)")]) -> None:
    """Send a dead delivery again."""
    from govops.exchange import webhooks

    with writing_session() as session:
        webhooks.replay(session=session, delivery_id=delivery)
        record_cli(session=session, action="webhook.replay", target=str(delivery))
    out.print(f"delivery {delivery} will be sent again")
