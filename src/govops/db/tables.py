"""Imports every domain's tables so that the metadata (and Alembic) sees all of them."""

from govops.audit import models as audit_models
from govops.auth import models as auth_models
from govops.catalog import models as catalog_models
from govops.db.base import Base
from govops.events import models as event_models
from govops.exchange import models as exchange_models
from govops.interop import models as interop_models
from govops.warehouse import models as warehouse_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "auth_models",
    "catalog_models",
    "event_models",
    "exchange_models",
    "interop_models",
    "metadata",
    "warehouse_models",
]
