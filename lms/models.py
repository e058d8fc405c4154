"""Every model, imported so that the metadata is complete (Alembic, tests)."""

from lms.accounts import models as accounts  # noqa: F401
from lms.api import models as api  # noqa: F401
from lms.assignments import models as assignments  # noqa: F401
from lms.certificates import models as certificates  # noqa: F401
from lms.courses import models as courses  # noqa: F401
from lms.db import Base
from lms.learning import models as learning  # noqa: F401
from lms.stats import models as stats  # noqa: F401
from lms.workspace import models as workspace  # noqa: F401

metadata = Base.metadata
