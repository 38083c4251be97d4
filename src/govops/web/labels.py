"""What the console calls each code it shows: one table per concept, keyed by its enum where there is one.

The words are catalogue messages (English msgids), translated when shown; a code no table knows is shown
as it is. Frequencies have their own labels on `Freq`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from govops.auth.schemas import Role
from govops.catalog.schemas import AreaRule, Classification, GroupKind, TimeRule
from govops.errors import lazy_gettext
from govops.warehouse.schemas import Status

ROLES: Mapping[str, str] = {
    Role.administrator: lazy_gettext("administrator"),
    Role.analyst: lazy_gettext("analyst"),
    Role.data_officer: lazy_gettext("data officer"),
    Role.viewer: lazy_gettext("viewer"),
}
CLASSIFICATIONS: Mapping[str, str] = {
    Classification.public: lazy_gettext("public"),
    Classification.internal: lazy_gettext("internal"),
    Classification.confidential: lazy_gettext("confidential"),
}
AREA_RULES: Mapping[str, str] = {
    AreaRule.sum: lazy_gettext("sum of the areas"),
    AreaRule.mean: lazy_gettext("average of the areas"),
    AreaRule.weighted: lazy_gettext("weighted average of the areas"),
    AreaRule.none: lazy_gettext("not aggregated"),
}
TIME_RULES: Mapping[str, str] = {
    TimeRule.sum: lazy_gettext("sum of the periods"),
    TimeRule.mean: lazy_gettext("average of the periods"),
    TimeRule.last: lazy_gettext("last period's value"),
    TimeRule.none: lazy_gettext("not aggregated"),
}
GROUP_KINDS: Mapping[str, str] = {
    GroupKind.report: lazy_gettext("report group"),
    GroupKind.appendix: lazy_gettext("appendix group"),
    GroupKind.exchange: lazy_gettext("exchange group"),
}
OBSERVATION_STATUSES: Mapping[str, str] = {
    Status.provisional: lazy_gettext("provisional"),
    Status.final: lazy_gettext("final"),
    Status.estimated: lazy_gettext("estimated"),
    Status.forecast: lazy_gettext("forecast"),
}
SUBMISSION_STATUSES: Mapping[str, str] = {
    "accepted": lazy_gettext("accepted"),
    "rejected": lazy_gettext("rejected"),
}
# The actions the audit trail records (`govops.audit.service.record`); a family names its own prefix.
AUDIT_ACTIONS: Mapping[str, str] = {
    "auth.sign_in": lazy_gettext("signed in"),
    "auth.sign_in_failed": lazy_gettext("failed sign-in"),
    "auth.sign_out": lazy_gettext("signed out"),
    "audit.checkpoint": lazy_gettext("audit checkpoint"),
    "catalogue.import": lazy_gettext("catalogue imported"),
    "confidential.read": lazy_gettext("confidential data read"),
    "directive.created": lazy_gettext("directive entered"),
    "grant.add": lazy_gettext("access granted"),
    "grant.revoke": lazy_gettext("access revoked"),
    "group.save": lazy_gettext("group saved"),
    "indicator.save": lazy_gettext("indicator saved"),
    "job.run": lazy_gettext("job run by hand"),
    "key.issue": lazy_gettext("API key issued"),
    "key.revoke": lazy_gettext("API key revoked"),
    "mapping.save": lazy_gettext("mapping saved"),
    "member.add": lazy_gettext("member system registered"),
    "observations.write": lazy_gettext("data written"),
    "quality.flag.close": lazy_gettext("quality flag closed"),
    "quality.flag.confirm": lazy_gettext("flagged value confirmed"),
    "quality.flag.dismiss": lazy_gettext("quality flag dismissed"),
    "quality.flag.dispute": lazy_gettext("quality check disputed"),
    "quality.rules.saved": lazy_gettext("quality rules saved"),
    "forecast.thresholds.saved": lazy_gettext("early-warning thresholds saved"),
    "forecast.threshold.deleted": lazy_gettext("early-warning threshold deleted"),
    "quality.scan": lazy_gettext("store scanned for quality"),
    "targets.save": lazy_gettext("targets entered"),
    "reporting.document": lazy_gettext("signed report filed"),
    "reporting.regimes.import": lazy_gettext("reporting regimes imported"),
    "submission.accepted": lazy_gettext("submission accepted"),
    "submission.rejected": lazy_gettext("submission rejected"),
    "task.created": lazy_gettext("task assigned"),
    "task.evaluated": lazy_gettext("task evaluated"),
    "task.extension.approved": lazy_gettext("extension granted"),
    "task.extension.refused": lazy_gettext("extension refused"),
    "task.extension.requested": lazy_gettext("extension requested"),
    "task.indicator.linked": lazy_gettext("indicator linked to a task"),
    "task.progress": lazy_gettext("task progress reported"),
    "tasks.import": lazy_gettext("tasks imported"),
    "user.create": lazy_gettext("user created"),
    "user.password": lazy_gettext("password changed"),
    "user.update": lazy_gettext("user changed"),
    "webhook.add": lazy_gettext("webhook added"),
    "webhook.replay": lazy_gettext("delivery sent again"),
    "webhook.stop": lazy_gettext("webhook stopped"),
}

TABLES: Mapping[str, Mapping[str, str]] = {
    "role": ROLES,
    "classification": CLASSIFICATIONS,
    "area_rule": AREA_RULES,
    "time_rule": TIME_RULES,
    "group_kind": GROUP_KINDS,
    "observation_status": OBSERVATION_STATUSES,
    "submission_status": SUBMISSION_STATUSES,
    "audit_action": AUDIT_ACTIONS,
}


def english_label(table: str, code: str | None) -> str:
    """The English word for `code` in `table` (a msgid), or the code itself when the table lacks it."""
    if code is None:
        return ""
    return TABLES[table].get(code, code)


def local_time(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """`moment` (UTC when naive) in `zone`, with its offset: `2025-07-14 15:30 GMT+7`."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    here = aware.astimezone(zone)
    offset = here.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    zone_text = f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")
    shown = f"{here:%Y-%m-%d %H:%M:%S}" if seconds else f"{here:%Y-%m-%d %H:%M}"
    return f"{shown} {zone_text}"
