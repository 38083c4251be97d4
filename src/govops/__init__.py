"""govops: online, data-based direction and administration for a national government."""

__version__ = "0.1.0"
