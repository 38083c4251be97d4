"""Every domain's tables, listed once at the top so that the metadata (and Alembic) sees all of them.

A new domain adds its `models` module here; `govops.db` stays below the domains and imports none of them.
"""

from govops.audit import models as audit_models
from govops.auth import models as auth_models
from govops.catalog import models as catalog_models
from govops.db.base import Base
from govops.events import models as event_models
from govops.exchange import models as exchange_models
from govops.forecast import models as forecast_models
from govops.interop import models as interop_models
from govops.jobs import models as jobs_models
from govops.notify import models as notify_models
from govops.quality import models as quality_models
from govops.reporting import models as reporting_models
from govops.targets import models as target_models
from govops.tasks import models as task_models
from govops.warehouse import models as warehouse_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "auth_models",
    "catalog_models",
    "event_models",
    "exchange_models",
    "forecast_models",
    "interop_models",
    "jobs_models",
    "metadata",
    "notify_models",
    "quality_models",
    "reporting_models",
    "target_models",
    "task_models",
    "warehouse_models",
]
