"""The indicator form goes through the same guard as a catalogue import, and says why in Vietnamese."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.service import export_catalogue, get_indicator
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation
from tests.catalog.test_pages import sign_in, token_of  # noqa: F401  (sign_in is a fixture)

CPI_FORM = {
    "name_vi": "Chỉ số giá tiêu dùng",
    "name_en": "Consumer price index",
    "unit": "INDEX_2019",
    "periodicity": "M",
    "dimensions": "COICOP_VN",
    "area_aggregation": "weighted",
    "area_weight": "POP",
    "time_aggregation": "mean",
    "owner": "NSO",
    "groups": ["PRICES"],
    "classification": "public",
    "decimals": "2",
}


def store_cpi_by_group(session: Session) -> None:
    rows = [
        (n, {"indicator": "CPI", "area": area, "period": "2025-07", "value": 104.0 + n, "dims": {"COICOP_VN": "01"}})
        for n, area in enumerate(("01", "79", "48"), start=1)
    ]
    ingest(session=session, rows=rows)
    session.commit()


def test_editing_the_unit_or_dimensions_of_an_indicator_with_data_is_refused_in_vietnamese(
    sign_in: Callable[[str], TestClient],  # noqa: F811
    session: Session,
) -> None:
    store_cpi_by_group(session)
    web = sign_in("administrator")
    before = export_catalogue(session=session)
    form = web.get("/admin/indicators/CPI")
    assert 'value="COICOP_VN"' in form.text and "Chiều phân tổ" in form.text
    token = token_of(form.text)

    answer = web.post("/admin/indicators/CPI", data={**CPI_FORM, "csrf_token": token, "unit": "PCT"})
    assert answer.status_code == 422
    assert "Chỉ tiêu CPI đã có 3 số liệu tính theo đơn vị INDEX_2019; không thể đổi sang PCT." in answer.text
    assert "Hãy giữ nguyên đơn vị tính, hoặc tạo chỉ tiêu mới cho đơn vị mới." in answer.text

    answer = web.post("/admin/indicators/CPI", data={**CPI_FORM, "csrf_token": token, "dimensions": ""})
    assert answer.status_code == 422
    assert "Chỉ tiêu CPI đã có 3 số liệu phân tổ theo [COICOP_VN]; không thể đổi chiều phân tổ thành [không có]" in (
        answer.text
    )
    assert 'value=""' in answer.text  # the form keeps what was typed

    session.expire_all()
    assert export_catalogue(session=session) == before
    assert session.scalar(select(func.count()).select_from(Observation)) == 3


def test_dimensions_of_an_indicator_without_data_can_be_edited(
    sign_in: Callable[[str], TestClient],  # noqa: F811
    session: Session,
) -> None:
    web = sign_in("administrator")
    token = token_of(web.get("/admin/indicators/CPI").text)
    fields = {**CPI_FORM, "csrf_token": token, "dimensions": "COICOP_VN, VSIC_IND"}
    saved = web.post("/admin/indicators/CPI", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    assert get_indicator(session=session, code="CPI").dimension_codes == ["COICOP_VN", "VSIC_IND"]
