"""Data exchange between agency systems: members, credentials, access rights."""
