"""Scheduled jobs in the console: /admin/jobs lists the jobs with their runs; "run now" queues one; administrators
only, in Vietnamese and English."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.jobs.models import JobRun
from tests.jobs.conftest import token_of

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def test_only_administrators_see_the_jobs(client: TestClient, sign_in: Callable[[str], TestClient]) -> None:
    assert client.get("/admin/jobs").status_code == 401
    assert client.post("/admin/jobs/auth.purge-sessions/run").status_code in (401, 403)
    web = sign_in("analyst")
    page = web.get("/admin/jobs")
    assert page.status_code == 403 and "Bạn không có quyền xem trang này" in page.text
    refused = web.post("/admin/jobs/auth.purge-sessions/run", data={"csrf_token": token_of(web.get("/").text)})
    assert refused.status_code == 403


def test_the_jobs_with_their_last_runs_in_both_languages(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("administrator")
    session.add_all(
        [
            JobRun(
                job="auth.purge-sessions",
                due_at=T0,
                scope="",
                state="succeeded",
                attempt=1,
                worker="host:1",
                started_at=T0,
                finished_at=T0 + timedelta(seconds=2),
                duration_ms=1500.0,
                summary="3 sessions, 1 sign-in failures deleted",
            ),
            JobRun(
                job="audit.checkpoint",
                due_at=T0,
                scope="",
                state="retrying",
                attempt=2,
                worker="host:2",
                started_at=T0,
                finished_at=T0,
                duration_ms=12.0,
                next_try_at=T0 + timedelta(minutes=2),
                error="OSError: disk full",
            ),
        ]
    )
    session.flush()
    home = web.get("/admin")
    assert 'href="/admin/jobs"' in home.text and "Tác vụ định kỳ" in home.text
    page = web.get("/admin/jobs")
    assert page.status_code == 200 and "<h1>Tác vụ định kỳ</h1>" in page.text
    purge = page.text.split('data-job="auth.purge-sessions"')[1].split("</tr>")[0]
    assert "mỗi 1 giờ" in purge
    assert "2025-07-01 15:00:00 GMT+7" in purge and "thành công" in purge and "1,50 s" in purge
    assert "Xóa các phiên đăng nhập đã hết hạn" in purge
    checkpoint = page.text.split('data-job="audit.checkpoint"')[1].split("</tr>")[0]
    assert "thất bại; sẽ thử lại lúc 2025-07-01 15:02:00 GMT+7" in checkpoint and "OSError: disk full" in checkpoint
    prune = page.text.split('data-job="jobs.prune-runs"')[1].split("</tr>")[0]
    assert "hằng ngày lúc 03:00 (Asia/Ho_Chi_Minh)" in prune and "<td>chưa chạy lần nào</td>" in prune
    runs = page.text.split('data-testid="job-runs"')[1]
    assert "3 sessions, 1 sign-in failures deleted" in runs and "host:2" in runs
    english = web.get("/admin/jobs?lang=en")
    assert (
        "<h1>Scheduled jobs</h1>" in english.text and "failed; tried again at 2025-07-01 15:02:00 GMT+7" in english.text
    )
    assert "daily at 03:00 (Asia/Ho_Chi_Minh)" in english.text and "Tác vụ" not in english.text


def test_run_now_queues_one_run_for_the_workers_and_is_audited(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("administrator")
    token = token_of(web.get("/admin/jobs").text)
    assert web.post("/admin/jobs/auth.purge-sessions/run").status_code == 403  # no CSRF token
    done = web.post("/admin/jobs/auth.purge-sessions/run", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/jobs?queued=auth.purge-sessions#runs"
    [run] = session.scalars(select(JobRun).where(JobRun.job == "auth.purge-sessions"))
    assert (run.state, run.manual, run.requested_by, run.attempt) == ("queued", True, "t.administrator", 0)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.action, entry.target, entry.actor) == (
        "job.run",
        "auth.purge-sessions",
        "t.administrator",
    )
    page = web.get(done.headers["location"])
    assert "auth.purge-sessions đã được xếp hàng" in page.text
    row = page.text.split(f'data-run="{run.id}"')[1].split("</tr>")[0]
    assert "đang chờ" in row and "chạy thủ công: t.administrator" in row


def test_running_an_unknown_job_says_which_exist(sign_in: Callable[[str], TestClient], session: Session) -> None:
    web = sign_in("administrator")
    token = token_of(web.get("/admin/jobs").text)
    missing = web.post("/admin/jobs/no.such-job/run", data={"csrf_token": token})
    assert missing.status_code == 404
    assert "Không có tác vụ nào tên là no.such-job." in missing.text
    assert re.search(r"Hãy chọn một tác vụ có trong danh sách", missing.text)
    assert session.scalars(select(JobRun).where(JobRun.job == "no.such-job")).first() is None
