"""Import every models module so the metadata is complete (for Alembic and tests)."""


def load_all() -> None:
    from server.accounts import models as _accounts  # noqa: F401
    from server.areas import models as _areas  # noqa: F401
    from server.audit import models as _audit  # noqa: F401
    from server.dedup import models as _dedup  # noqa: F401
    from server.figures import models as _figures  # noqa: F401
    from server.forms import models as _forms  # noqa: F401
    from server.households import models as _households  # noqa: F401
    from server.jobs import models as _jobs  # noqa: F401
    from server.lists import models as _lists  # noqa: F401
    from server.monitoring import models as _monitoring  # noqa: F401
    from server.pipeline import models as _pipeline  # noqa: F401
    from server.screening import models as _screening  # noqa: F401
    from server.submissions import models as _submissions  # noqa: F401
