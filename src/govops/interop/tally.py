"""What a reader counted in a body: the receipt's "N of M" and "K left out" come from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Tally:
    """How many values a body holds and what became of those that give no row.

    ``values`` counts every value (observation, data value, line) the body holds; ``skipped`` those
    the mapping left out on purpose (``missing: skip``, ``unmatched: skip``, a data element marked
    skip, a DHIS2 value marked deleted); ``unreported`` those rejected by a problem reported once for
    several values (the later observations of an SDMX series no rule matches).
    """

    values: int = 0
    skipped: int = 0
    unreported: int = 0

    @property
    def received(self) -> int:
        """The values taken from the body: every value but those the mapping left out."""
        return self.values - self.skipped
