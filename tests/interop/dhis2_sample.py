"""The real DHIS2 sample (shared/data/dhis2) made a govops catalogue and a stored mapping, as a ministry would."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.interop.dhis2.metadata import catalogue_from_metadata
from govops.interop.mapping.service import save_mapping
from tests.conftest import shared_file

MAPPING = "moh-dhis2"


def load_dhis2_sample(session: Session) -> None:
    """MOH's catalogue from the sample's metadata, its org unit O6uvpzGd5pu as Hồ Chí Minh City (79), and the
    mapping `moh-dhis2` that reads its data value sets."""
    metadata = shared_file("dhis2", "aggregate_metadata.json").read_bytes()
    doc, mapping = catalogue_from_metadata(
        metadata, owner="MOH", unit="CASES", group="SOCIAL", org_units={"O6uvpzGd5pu": "79"}
    )
    import_catalogue(session=session, doc=CatalogueDoc.model_validate(doc))
    save_mapping(session=session, name=MAPPING, kind="dhis2", text=mapping, by="test")
