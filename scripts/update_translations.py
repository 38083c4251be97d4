"""Extract the console's messages and merge them into the Vietnamese catalogue.

    .venv/bin/python scripts/update_translations.py

Runs `pybabel extract` over the templates and Python code, then updates
src/govops/web/locale/vi/LC_MESSAGES/messages.po, keeping existing translations. Untranslated
messages are listed; tests/web/test_i18n.py fails while any remains.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "src/govops/web/locale/vi/LC_MESSAGES/messages.po"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_",
             "-k", "gettext", "-k", "ngettext:1,2", "-k", "lazy_gettext", "--no-location", "--sort-output",
             "-o", str(pot), str(ROOT / "src")],
            check=True, capture_output=True,
        )
        with pot.open("rb") as fh:
            template = read_po(fh)
    if PO.exists():
        with PO.open("rb") as fh:
            catalog = read_po(fh, locale="vi")
    else:
        from babel.messages.catalog import Catalog

        catalog = Catalog(locale="vi", project="govops")
    catalog.update(template, no_fuzzy_matching=True)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, width=110)
    missing = [m.id for m in catalog if m.id and not m.string]
    for message in missing:
        print(f"untranslated: {message!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
