"""The warehouse: observations, their revisions, queries and aggregation."""
