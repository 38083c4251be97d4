"""Reporting regimes and compliance computed from the data and its arrival times (issue 13)."""
