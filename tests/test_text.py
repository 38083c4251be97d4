"""One folding of Vietnamese text for every search and match."""

from __future__ import annotations

from govops.text import fold
from govops.web.maps import normalize_province_name


def test_fold_removes_tone_marks_and_d_stroke() -> None:
    assert fold("Đắk Lắk") == "dak lak" and fold("Thừa Thiên Huế") == "thua thien hue"


def test_fold_finds_both_spellings_of_a_tone_mark_and_any_case() -> None:
    # "Hòa" and "Hoà" place the tone mark differently; precomposed and decomposed forms are the same letters.
    assert fold("Khánh Hòa") == fold("Khánh Hoà") == fold("KHÁNH HOÀ") == "khanh hoa"
    assert fold("Ha\u0300 No\u0323\u0302i") == fold("Hà Nội") == "ha noi"


def test_province_names_on_maps_fold_the_same_way() -> None:
    assert normalize_province_name("Đắk Lắk") == fold("Đắk Lắk").replace(" ", "")
