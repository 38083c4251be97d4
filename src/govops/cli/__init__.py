"""The `govops` command line."""
