"""Imports every domain's tables so that the metadata (and Alembic) sees all of them."""

from govops.auth import models as auth_models
from govops.catalog import models as catalog_models
from govops.db.base import Base
from govops.warehouse import models as warehouse_models

metadata = Base.metadata

__all__ = ["auth_models", "catalog_models", "metadata", "warehouse_models"]
