"""`govops audit checkpoint`, `govops audit verify` with checkpoints, the worker's and the demo's checkpoints and
the external receiver: real processes on their own SQLite store, a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from govops import signing
from govops.audit.service import canonical_json, record
from govops.db.engine import make_engine, transaction
from tests.audit.test_cli import sql
from tests.cli.conftest import Govops


def add_entries(store: Path, n: int) -> None:
    """Entries recorded as the server records them (a process less per test than `govops ingest`)."""
    engine = make_engine(f"sqlite:///{store}")
    try:
        with transaction(engine) as session:
            for i in range(n):
                record(
                    session=session, action="observations.write", actor_kind="system", actor="system", target=f"T{i}"
                )
    finally:
        engine.dispose()


def lines(govops: Govops) -> list[dict[str, object]]:
    file = govops.cwd / "var" / "audit-checkpoints.jsonl"
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]


def test_checkpoint_then_truncate_the_trail_and_verify_names_the_deletion(govops: Govops, tmp_path: Path) -> None:
    add_entries(govops.store, 3)
    written = govops("audit", "checkpoint")
    assert written.code == 0, written.err
    assert written.out.startswith("checkpoint written: entry 4 (4 entries), ")
    assert written.out.strip().endswith("to var/audit-checkpoints.jsonl")
    [line] = lines(govops)
    assert (line["last_id"], line["entries"]) == (4, 4)
    key = signing.server_key(tmp_path / "var" / "signing-key.pem")
    unsigned = {k: v for k, v in line.items() if k != "signature"}
    assert signing.verifies(signing.public_key_b64(key), str(line["signature"]), canonical_json(unsigned).encode())

    intact = govops("audit", "verify")
    assert intact.code == 0, intact.err
    assert intact.out.splitlines()[0] == "audit trail intact: 4 entries"
    assert intact.out.splitlines()[1].startswith("checkpoints: 1 signed, the last of ")
    assert intact.out.splitlines()[1].endswith(" UTC at entry 4 (4 entries)")

    sql(govops.store, "DELETE FROM audit_entry WHERE id > 2")
    cut = govops("audit", "verify")
    assert cut.code == 1
    assert cut.out.splitlines()[0] == "audit trail intact: 2 entries"  # the chain alone cannot tell
    problems = cut.err.strip().splitlines()
    assert problems[0].startswith("checkpoint problem (var/audit-checkpoints.jsonl, line 1, entry 4, checkpoint of ")
    assert problems[0].endswith(
        "UTC): the trail has 2 entries, fewer than the 4 this checkpoint counted: entries were deleted"
    )
    assert problems[1].endswith(
        "entry 4 is missing: the trail now ends at entry 2, before the head this checkpoint pinned "
        "(its last entries were deleted)"
    )

    # An edited line, checked against a copy of the file and the public key kept elsewhere.
    copy = tmp_path / "offsite.jsonl"
    copy.write_text(canonical_json(line | {"entries": 2}) + "\n", encoding="utf-8")
    edited = govops("audit", "verify", "--file", str(copy), "--public-key", signing.public_key_b64(key))
    assert edited.code == 1
    assert "line 1, entry 4" in edited.err
    assert "the signature does not verify: the line was changed after it was written" in edited.err
    bad_key = govops("audit", "verify", "--public-key", "not-a-key")
    assert bad_key.code == 1 and "the public key is not a base64 Ed25519 key" in bad_key.err

    (tmp_path / "var" / "signing-key.pem").unlink()
    lost = govops("audit", "verify")
    assert lost.code == 1
    assert "the server's signing key is missing, so the audit checkpoints cannot be checked" in lost.err
    assert not (tmp_path / "var" / "signing-key.pem").exists()  # verify never makes a new key


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes], list[int]]]:
    """A real HTTP receiver on 127.0.0.1: the bodies it was posted, the status it answers (first of the list)."""
    bodies: list[bytes] = []
    status = [204]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/checkpoints", bodies, status
    finally:
        server.shutdown()
        server.server_close()


def test_each_checkpoint_is_posted_to_the_receiver(
    govops: Govops, tmp_path: Path, receiver: tuple[str, list[bytes], list[int]]
) -> None:
    url, bodies, status = receiver
    sent = govops("audit", "checkpoint", GOVOPS_AUDIT_CHECKPOINT_URL=url)
    assert sent.code == 0, sent.err
    assert sent.out.strip().endswith(f"sent to {url}")
    assert [json.loads(body) for body in bodies] == lines(govops)

    status[0] = 503
    refused = govops("audit", "checkpoint", GOVOPS_AUDIT_CHECKPOINT_URL=url)
    assert refused.code == 1
    assert f"the receiver {url} did not take the checkpoint (HTTP 503); it is in the file only" in refused.err
    assert len(lines(govops)) == 2 and len(bodies) == 2


def test_the_worker_checkpoints_a_grown_trail(govops: Govops, tmp_path: Path) -> None:
    add_entries(govops.store, 1)
    file = tmp_path / "var" / "audit-checkpoints.jsonl"
    worker = subprocess.Popen(
        [sys.executable, "-m", "govops", "worker"],
        cwd=govops.cwd,
        env=govops.env | {"GOVOPS_AUDIT_CHECKPOINT_MINUTES": "60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (file.exists() and file.read_text(encoding="utf-8").endswith("\n")):
            assert time.monotonic() < deadline, "the worker wrote no checkpoint within a minute"
            assert worker.poll() is None, "the worker stopped"
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert [(line["last_id"], line["entries"]) for line in lines(govops)] == [(2, 2)]
    rows = sql(govops.store, "SELECT action, actor FROM audit_entry WHERE id = 2")
    assert rows == [("audit.checkpoint", "system")]


def test_demo_set_up_ends_with_a_checkpoint(demo_folder: Path) -> None:
    # The demo store the browser tests share, as `govops demo --no-serve` left it.
    demo = Govops(demo_folder / "govops.db", demo_folder)
    [line] = lines(demo)
    printed = (demo_folder / "demo.out").read_text(encoding="utf-8")
    assert f"audit checkpoint: entry {line['last_id']} in var/audit-checkpoints.jsonl" in printed
    head = sql(demo.store, "SELECT id, action, hash FROM audit_entry ORDER BY id DESC LIMIT 1")
    assert head == [(line["last_id"], "audit.checkpoint", line["last_hash"])]
