"""Regime files: read with every problem named by line and field, nothing stored on bad input; versions never
rewrite the past; export and import again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.errors import GovopsError, Rejected
from govops.reporting import service
from govops.reporting.models import Regime, RegimeVersion
from govops.reporting.regimes import export_regimes, import_regimes
from govops.reporting.rules import parse_rule
from tests.cli.conftest import Govops
from tests.reporting.conftest import REGIME_FILE, utc

NOW = utc(2025, 10, 20, 3)


def _problems(session: Session, text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(Rejected) as caught:
        import_regimes(session=session, text=text, where="bad.yaml", now=NOW)
    assert session.scalar(select(func.count()).select_from(Regime)) == 0
    return [(p.row, p.field, p.code) for p in caught.value.problems]


def test_unknown_codes_unreadable_rules_and_overlapping_versions_are_named_by_line_and_field(session: Session) -> None:
    bad = (
        REGIME_FILE.replace("[CPI, RETAIL_SALES]", "[CPI, NO_SUCH]")
        .replace("day 12 of the month after the period", "by the twelfth")
        .replace("agencies: [MOF]", "agencies: [MOF, NOBODY]")
        + """\
  - code: TWICE
    versions:
      - {from: 2025-09, name_vi: a, name_en: a, legal_basis: x, frequency: M, deadline: 5 days after the month,
         indicators: [CPI], reporters: {kinds: [ministry], coverage: nation}}
      - {from: 2025-08, name_vi: b, name_en: b, legal_basis: x, frequency: M, deadline: 5 days after the month,
         indicators: [CPI], reporters: {kinds: [ministry], coverage: nation}, colour: red}
"""
    )
    problems = _problems(session, bad)
    assert (11, "regimes[0].versions[0].deadline", "reporting.invalid_rule") in problems
    assert (34, "regimes[2].versions[1].from", "reporting.overlapping_versions") in problems
    assert (35, "regimes[2].versions[1].colour", "reporting.unknown_field") in problems
    # The rest of the file was fine, so the store is asked about its codes only when it reads cleanly.
    fixed = bad.replace("by the twelfth", "day 12 of the month after the period").split("  - code: TWICE")[0]
    assert _problems(session, fixed) == [
        (16, "regimes[TEST_MONTHLY].versions[0].indicators", "reporting.unknown_code"),
        (29, "regimes[TEST_QUARTERLY_MINISTRY].versions[0].reporters.agencies", "reporting.unknown_code"),
    ]


def test_not_yaml_and_no_regimes_are_refused(session: Session) -> None:
    assert _problems(session, "regimes: [\n  - code: X\n") == [(2, None, "reporting.yaml")]
    assert _problems(session, "hello: world\n") == [(1, "regimes", "reporting.no_regimes")]


def test_a_stored_version_is_never_rewritten_and_a_new_one_applies_from_a_later_period(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    service.ensure_expected(session=session, now=NOW)
    # The same file again changes nothing.
    again = import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    assert (again.regimes_created, again.versions_added, again.unchanged) == ([], [], 2)
    with pytest.raises(Rejected) as caught:
        import_regimes(session=session, text=REGIME_FILE.replace("grace_days: 1", "grace_days: 5"), where="x", now=NOW)
    assert [p.code for p in caught.value.problems] == ["reporting.version_exists"]
    # A version from September would change reports already due.
    later = REGIME_FILE.replace(
        "        reporters: {kinds: [provincial_committee], coverage: own_area}\n",
        "        reporters: {kinds: [provincial_committee], coverage: own_area}\n"
        "      - {from: 2025-09, name_vi: a, name_en: a, legal_basis: x, frequency: M,\n"
        "         deadline: 5 days after the month, indicators: [CPI],\n"
        "         reporters: {kinds: [provincial_committee], coverage: own_area}}\n",
    )
    with pytest.raises(Rejected) as caught:
        import_regimes(session=session, text=later, where="x", now=NOW)
    assert [p.code for p in caught.value.problems] == ["reporting.past_rewritten"]
    added = import_regimes(session=session, text=later.replace("from: 2025-09", "from: 2025-11"), where="x", now=NOW)
    assert added.versions_added == ["TEST_MONTHLY@2025-11"]
    assert session.scalar(select(func.count()).select_from(RegimeVersion)) == 3


def test_export_reads_back_unchanged(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    text = export_regimes(session=session)
    assert "deadline: day 12 of the month after the period" in text and "legal_date: 2019-01-24" in text
    again = import_regimes(session=session, text=text, where="exported.yaml", now=NOW)
    assert (again.versions_added, again.unchanged) == ([], 2)


def test_deadline_rules_give_the_last_moment_of_the_day_in_vietnam() -> None:
    from govops.periods import Period

    rule = parse_rule("Day 12 of the month after the period")
    assert rule.moment(Period("2025-12")) == utc(2026, 1, 12, 16, 59, 59)
    assert (
        parse_rule("day 31 of the 2nd month after the quarter").day_for(Period("2025-Q4")).isoformat() == "2026-02-28"
    )
    assert parse_rule("20 days after the year").day_for(Period("2025")).isoformat() == "2026-01-20"
    with pytest.raises(GovopsError) as caught:
        parse_rule("day 40 of the month after the period")
    assert caught.value.code == "invalid_rule" and "day 12 of the month after the period" in str(caught.value.hint)


def test_the_cli_imports_exports_and_shows_a_period(govops: Govops) -> None:
    (govops.cwd / "regimes.yaml").write_text(REGIME_FILE, encoding="utf-8")
    bad = govops.cwd / "bad.yaml"
    bad.write_text(REGIME_FILE.replace("[CPI, RETAIL_SALES]", "[CPI, NO_SUCH]"), encoding="utf-8")
    refused = govops("reporting", "regimes", "import", str(bad))
    assert refused.code == 1 and "NO_SUCH" in refused.err and "reporting.unknown_code" in refused.err
    assert govops("reporting", "regimes", "export").out == "regimes: []\n"
    done = govops("reporting", "regimes", "import", "regimes.yaml")
    assert done.code == 0, done.err
    assert "2 regime(s) created, 2 version(s) added" in done.out
    exported = govops("reporting", "regimes", "export")
    assert "TEST_QUARTERLY_MINISTRY" in exported.out
    shown = govops("reporting", "status", "--regime", "TEST_MONTHLY", "--period", "2025-08")
    assert shown.code == 0, shown.err
    assert "PC-79" in shown.out and "✗ missing" in shown.out and "REPORTING_RATE 0.0" in shown.out
    unknown = govops("reporting", "status", "--regime", "NOPE")
    assert unknown.code == 1 and "regime: There is no reporting regime 'NOPE'." in unknown.err
    unreadable = govops("reporting", "regimes", "import", "missing.yaml")
    assert unreadable.code == 1 and "cannot be read as UTF-8 text: No such file or directory." in unreadable.err


def test_problems_read_in_vietnamese_whole(session: Session) -> None:
    from govops.i18n import problem_message

    with pytest.raises(Rejected) as caught:
        import_regimes(
            session=session,
            text=REGIME_FILE.replace("grace_days: 1", "grace_days: soon").replace("[CPI, RETAIL_SALES]", "[CPI, NOPE]"),
            where="bad.yaml",
            now=NOW,
        )
    assert [problem_message(p, "vi") for p in caught.value.problems] == [
        "Trường grace_days phải là số ngày nguyên từ 0 đến 366, không phải 'soon'."
    ]
    with pytest.raises(Rejected) as caught:
        import_regimes(session=session, text=REGIME_FILE.replace("[CPI, RETAIL_SALES]", "[CPI, NOPE]"), where="x")
    assert [problem_message(p, "vi") for p in caught.value.problems] == ["Danh mục không có chỉ tiêu NOPE."]
