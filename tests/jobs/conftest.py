"""The console's sign-in helpers and the CLI's real-process fixtures, shared with the audit tests."""

from tests.audit.conftest import sign_in, token_of
from tests.cli.conftest import govops, initialised_store

__all__ = ["govops", "initialised_store", "sign_in", "token_of"]
