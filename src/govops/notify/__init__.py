"""Notifications: what a person must act on, in their console inbox and by e-mail, in their language."""
