"""A bad `GOVOPS_*` setting stops every command with one clear line per variable, before anything runs."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Govops, govops, initialised_store  # noqa: F401  (the CLI's fixtures)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"GOVOPS_SMTP_PORT": "abc"},
            "error: GOVOPS_SMTP_PORT='abc' is not a whole number: set it to a whole number, "
            "or unset it to use the default",
        ),
        (
            {"GOVOPS_SMTP_PORT": "70000"},
            "error: GOVOPS_SMTP_PORT='70000' must be at most 65535: set it to a number up to 65535, "
            "or unset it to use the default",
        ),
        (
            {"GOVOPS_LOG_LEVEL": "loud"},
            "error: GOVOPS_LOG_LEVEL='loud' is not 'debug', 'info', 'warning' or 'error': "
            "set it to 'debug', 'info', 'warning' or 'error', or unset it to use the default",
        ),
        (
            # The URL may hold a password: it is not repeated back.
            {"GOVOPS_DATABASE_URL": "mysql://govops:s3cret@db.example/govops"},
            "error: GOVOPS_DATABASE_URL is not valid: it has the scheme 'mysql', not a database govops can use; "
            "write sqlite:///path/to/file.db (embedded) or postgresql+psycopg://user@host/db",
        ),
        (
            {"GOVOPS_SMTP_SSL": "true", "GOVOPS_SMTP_STARTTLS": "true"},
            "error: set GOVOPS_SMTP_SSL (TLS from the start, port 465) or GOVOPS_SMTP_STARTTLS, not both",
        ),
    ],
)
def test_a_bad_setting_is_named_with_how_to_fix_it_and_nothing_runs(
    govops: Govops,  # noqa: F811
    env: dict[str, str],
    line: str,
) -> None:
    before = govops.store.read_bytes()
    result = govops("user", "create", "lan", "--full-name", "Lan", "--agency", "GO", "--role", "viewer", **env)
    assert result.code == 2
    assert result.err.splitlines() == [line]
    assert result.out == "" and "Traceback" not in result.err and "s3cret" not in result.err
    assert govops.store.read_bytes() == before


def test_each_bad_setting_has_its_own_line(govops: Govops) -> None:  # noqa: F811
    result = govops("jobs", "list", GOVOPS_SMTP_PORT="abc", GOVOPS_WORKER="maybe")
    assert result.code == 2
    assert sorted(result.err.splitlines()) == [
        "error: GOVOPS_SMTP_PORT='abc' is not a whole number: set it to a whole number, or unset it to use the default",
        "error: GOVOPS_WORKER='maybe' is not true or false: set it to true or false, or unset it to use the default",
    ]
