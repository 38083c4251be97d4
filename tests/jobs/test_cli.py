"""`govops jobs list` and `govops jobs run NAME`, run as a user runs them, on a store of their own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from govops.auth.models import SignInFailure
from govops.db.base import utcnow
from govops.db.engine import make_engine, transaction
from govops.jobs.models import JobRun
from tests.cli.conftest import Govops


def test_list_shows_every_job_with_its_schedule_and_no_run_yet(govops: Govops) -> None:
    listed = govops("jobs", "list")
    assert listed.code == 0, listed.err
    lines = {line.split("│")[1].strip(): line for line in listed.out.splitlines() if line.count("│") > 2}
    assert set(lines) == {
        "auth.purge-sessions",
        "audit.checkpoint",
        "forecast.refresh",
        "forecast.watch",
        "jobs.prune-runs",
        "quality.after-deadlines",
        "quality.nightly-scan",
        "reporting.deadlines",
        "reporting.follow-changes",
        "reporting.reminders",
        "targets.follow-changes",
        "targets.refresh",
        "tasks.watch",
        "warehouse.page-caches",
    }
    assert "every 1 h" in lines["auth.purge-sessions"] and "(due now)" in lines["auth.purge-sessions"]
    assert "every 15 min" in lines["audit.checkpoint"]
    assert "daily at 03:00 (Asia/Ho_Chi_Minh)" in lines["jobs.prune-runs"]
    assert "every 10 min, each server" in lines["warehouse.page-caches"]
    assert "every 15 min" in lines["targets.refresh"]
    assert "every 1 min" in lines["targets.follow-changes"]
    assert "succeeded" not in listed.out
    # The zone of the daily jobs is the operator's to set.
    utc = govops("jobs", "list", GOVOPS_TIMEZONE="UTC")
    assert "daily at 03:00 (UTC)" in utc.out
    bad = govops("jobs", "list", GOVOPS_TIMEZONE="Mars/Olympus")
    assert bad.code != 0 and "'Mars/Olympus' is not a time zone" in bad.err + bad.out


def test_run_purges_old_sign_in_failures_records_the_run_and_list_shows_it(govops: Govops) -> None:
    engine = make_engine(f"sqlite:///{govops.store}")
    try:
        with transaction(engine) as session:
            session.add_all(
                [
                    SignInFailure(username="old", ip="10.0.0.1", at=utcnow() - timedelta(days=2)),
                    SignInFailure(username="new", ip="10.0.0.1", at=utcnow()),
                ]
            )
        ran = govops("jobs", "run", "auth.purge-sessions")
        assert ran.code == 0, ran.err
        assert "auth.purge-sessions: succeeded in" in ran.out and "0 sessions, 1 sign-in failures deleted" in ran.out
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(SignInFailure)) == 1
            [run] = conn.execute(select(JobRun.job, JobRun.state, JobRun.manual, JobRun.attempt)).all()
        assert tuple(run) == ("auth.purge-sessions", "succeeded", True, 1)
    finally:
        engine.dispose()
    listed = govops("jobs", "list")
    [line] = [line for line in listed.out.splitlines() if "auth.purge-sessions" in line]
    assert "succeeded" in line and " s " in line


def test_run_of_an_unknown_job_names_the_jobs_there_are(govops: Govops) -> None:
    refused = govops("jobs", "run", "purge")
    assert refused.code == 1 and refused.out == ""
    err = " ".join(refused.err.split())
    assert "there is no job named 'purge'" in err
    jobs = (
        "audit.checkpoint, auth.purge-sessions, forecast.refresh, forecast.watch, jobs.prune-runs, "
        "quality.after-deadlines, quality.nightly-scan, reporting.deadlines, reporting.follow-changes, "
        "reporting.reminders, targets.follow-changes, targets.refresh, tasks.watch, warehouse.page-caches"
    )
    assert f"the jobs are: {jobs}" in err


def test_a_failing_job_run_by_hand_says_why_and_exits_non_zero(govops: Govops) -> None:
    # The checkpoint's folder cannot be made: a file stands where it should be.
    (govops.cwd / "blocked").write_text("a file, not a folder", encoding="utf-8")
    failed = govops("jobs", "run", "audit.checkpoint", GOVOPS_AUDIT_CHECKPOINT_FILE="blocked/checkpoints.jsonl")
    assert failed.code == 1
    err = " ".join(failed.err.split())
    assert "audit.checkpoint: failed after" in err and "blocked/checkpoints.jsonl" in err
    listed = govops("jobs", "list", GOVOPS_AUDIT_CHECKPOINT_FILE="blocked/checkpoints.jsonl")
    [line] = [line for line in listed.out.splitlines() if "audit.checkpoint" in line]
    assert "failed" in line
