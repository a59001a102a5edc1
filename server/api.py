"""The REST API (flask-smorest): the ``Api`` and the registration of every feature's blueprint.

The toolkit the blueprints are made with (authentication, area scope, sorting, paging, error
docs) is ``server.rest``; this module only assembles them. The OpenAPI document is served at
``/api/openapi.json``.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from server.accounts.api import bp as users
from server.accounts.api import me_bp as me
from server.areas.api import bp as areas
from server.audit.api import bp as audit
from server.declarations.api import bp as declarations
from server.dedup.api import conflicts_bp, duplicates_bp
from server.error_codes import bp as error_codes
from server.exports.api import bp as exports
from server.households.api import bp as households
from server.households.api import people_bp
from server.jobs.api import bp as jobs
from server.monitoring.api import bp as monitoring
from server.pipeline.api import bp as cases
from server.printing.api import bp as printing
from server.reports.api import bp as reports
from server.rest import refuse_personal_data_in_url
from server.screening.api import bp as screening
from server.submissions.api import bp as submissions


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="防返贫监测 API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"security": [{"basic": []}]},
    )
    app.before_request(refuse_personal_data_in_url)
    api = Api(app)
    api.spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    for bp in (areas, users, me, households, people_bp, submissions, conflicts_bp, duplicates_bp,
               declarations, cases, monitoring, screening, reports, exports, printing, jobs,
               audit, error_codes):
        api.register_blueprint(bp)
