from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from govops.i18n import negotiate, number, period_label, place_label, translations
from govops.interop.sdmx.api import choose_language

ROOT = Path(__file__).resolve().parents[1]


def test_every_message_of_the_console_has_a_vietnamese_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            # Problems, hints and labels: marked where they are made, translated where they are shown.
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            str(ROOT / "src"),
        ],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(wanted) > 50
    vi = translations("vi")
    untranslated = sorted(m for m in wanted if vi.gettext(m) == m)
    assert untranslated == [], "run scripts/update_translations.py and translate these in messages.po"
    # Problems and hints are among them: a rejected file must not show an English sentence.
    assert "unknown area '%(area)s'" in wanted and "cell %(cell)s holds the text '%(text)s', not a number" in wanted


def test_the_catalogue_places_tone_marks_one_way() -> None:
    """Write "hóa", not "hoá": the mark on the main vowel of an open oa/oe/uy syllable, as the Government does."""
    with (ROOT / "src/govops/web/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        strings = [m.string for m in read_po(fh) if m.string]
    texts = [t for s in strings for t in ([s] if isinstance(s, str) else s)]
    old_style = re.compile(r"(?<![qQ])(o[áàảãạ]|o[éèẻẽẹ]|u[ýỳỷỹỵ])(?![a-zđ])")
    assert [t for t in texts if old_style.search(t)] == []
    assert any("hóa" in t for t in texts)


def test_numbers_follow_the_locale() -> None:
    assert number(1234.5, "vi") == "1.234,5"
    assert number(1234.5, "en") == "1,234.5"
    assert number(-0.25, "vi", 2) == "-0,25"
    assert number(None, "vi") == "—" and number(float("inf"), "en") == "—"


def test_periods_read_naturally() -> None:
    assert period_label("2025-07", "vi") == "Tháng 7/2025" and period_label("2025-07", "en") == "Jul 2025"
    assert period_label("2025-Q3", "vi") == "Quý III/2025" and period_label("2025-Q3", "en") == "Q3 2025"
    assert period_label("2025", "vi") == "Năm 2025" and period_label("2025-S1", "en") == "H1 2025"
    assert period_label("not a period", "vi") == "not a period"


def test_places_are_named_in_the_readers_words_even_inside_parentheses() -> None:
    dhis2 = "bulk.json, value 3 (data element tpz77FcntKx, org unit O6uvpzGd5pu, period 2018)"
    assert (
        place_label(dhis2, "vi")
        == "bulk.json, giá trị 3 (phần tử dữ liệu tpz77FcntKx, đơn vị tổ chức O6uvpzGd5pu, kỳ 2018)"
    )
    assert place_label(dhis2, "en") == dhis2
    assert (
        place_label("series M.USD.EUR.SP00.A, period 2019-01, line 4", "vi")
        == "chuỗi M.USD.EUR.SP00.A, kỳ 2019-01, dòng 4"
    )
    assert place_label("mapping ecb, line 3", "vi") == "bảng ánh xạ ecb, dòng 3"
    assert place_label("submission", "vi") == "tệp" and place_label("linear.csv", "vi") == "linear.csv"


def test_language_negotiation_prefers_the_explicit_choice() -> None:
    assert negotiate(None, "en", "vi") == "en"
    assert negotiate(None, None, "en-GB,en;q=0.9") == "en"
    assert negotiate("fr") == "vi"


def test_accept_language_is_read_by_weight_and_each_reader_keeps_its_default() -> None:
    # One reading of the header for the console and the SDMX API alike.
    assert negotiate("en;q=0.4, vi;q=0.8") == "vi"
    assert negotiate("fr, en;q=0.1") == "en"
    assert negotiate("vi;q=0, en") == "en"
    assert negotiate("fr", default="en") == "en"
    assert choose_language(lang=None, accept_language="fr-FR, vi;q=0.5") == "vi"
    assert choose_language(lang=None, accept_language=None) == "en"
