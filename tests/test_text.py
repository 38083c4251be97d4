"""One folding of Vietnamese text for every search and match."""

from __future__ import annotations

from govops.text import collation_key, fold
from govops.web.maps import normalize_province_name


def test_fold_removes_tone_marks_and_d_stroke() -> None:
    assert fold("Đắk Lắk") == "dak lak" and fold("Thừa Thiên Huế") == "thua thien hue"


def test_fold_finds_both_spellings_of_a_tone_mark_and_any_case() -> None:
    # "Hòa" and "Hoà" place the tone mark differently; precomposed and decomposed forms are the same letters.
    assert fold("Khánh Hòa") == fold("Khánh Hoà") == fold("KHÁNH HOÀ") == "khanh hoa"
    assert fold("Ha\u0300 No\u0323\u0302i") == fold("Hà Nội") == "ha noi"


def test_province_names_on_maps_fold_the_same_way() -> None:
    assert normalize_province_name("Đắk Lắk") == fold("Đắk Lắk").replace(" ", "")


def test_vietnamese_order_puts_d_stroke_after_d_and_tones_after_the_bare_letter() -> None:
    names = ["Đồng Nai", "Dương", "Ăn", "Duy", "An Giang", "Ân", "Bình"]
    assert sorted(names, key=collation_key) == ["An Giang", "Ăn", "Ân", "Bình", "Duy", "Dương", "Đồng Nai"]
    # Tones in dictionary order: level, huyền, hỏi, ngã, sắc, nặng.
    assert sorted(["Hạ", "Há", "Hà", "Hã", "Ha", "Hả"], key=collation_key) == ["Ha", "Hà", "Hả", "Hã", "Há", "Hạ"]
    # Letters decide before tones: "Sóc" (o) before "Sở" (ơ), and a shorter word before a longer one.
    assert sorted(["Sơn La", "Sở", "Sóc"], key=collation_key) == ["Sóc", "Sở", "Sơn La"]
    # Plain code-point order would put every "Đ" after "Z" and "Ă" after "B".
    assert sorted(["Zeta", "Đà Nẵng", "Bắc Ninh", "Ăn"], key=collation_key) == ["Ăn", "Bắc Ninh", "Đà Nẵng", "Zeta"]
