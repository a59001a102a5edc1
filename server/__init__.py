"""Fangpin: the application factory."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import config as config_module


def create_app(config: dict | None = None) -> Flask:
    """Defaults → environment → ``config`` overrides; then extensions and blueprints."""
    app = Flask(__name__, instance_path=str(config_module.INSTANCE))
    app.config.update(config_module.load(config))
    app.json.ensure_ascii = False
    from server import logs

    logs.init_app(app)  # first: every later before_request may refuse, the line is still written

    from media import store_from_url
    from server import api as rest_api
    from server import console, db, errors, multipart
    from server.auth import use_auth_cache
    from sync import api as openrosa_api

    multipart.install()  # request bodies decoded without patterns compiled per request
    db.init_app(app)
    use_auth_cache(app.extensions["fangpin.db"].engine, app.config["AUTH_CACHE_SECONDS"])
    errors.init_app(app)
    s3_options = {
        "endpoint_url": app.config["S3_ENDPOINT_URL"],
        "region_name": app.config["S3_REGION"],
        "aws_access_key_id": app.config["S3_ACCESS_KEY_ID"],
        "aws_secret_access_key": app.config["S3_SECRET_ACCESS_KEY"],
    }
    app.extensions["fangpin.media"] = store_from_url(
        app.config["MEDIA_STORE"], **{k: v for k, v in s3_options.items() if v}
    )
    from server.intake.worker import take_in_mode

    app.extensions["fangpin.take_in"] = take_in_mode(app.config["TAKE_IN"],
                                                     app.extensions["fangpin.db"])
    from server.jobs.runners import jobs_mode

    app.extensions["fangpin.jobs"] = jobs_mode(
        app.config["JOBS"], app.extensions["fangpin.db"], app.extensions["fangpin.media"],
        app.config["DATABASE_URL"])
    from server.rest import IdConverter

    app.url_map.converters["id"] = IdConverter  # path ids, before any route that uses <id:…>
    openrosa_api.init_app(app)
    rest_api.init_app(app)
    console.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N reverse proxies: the client's address and scheme are the forwarded ones.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    from server import health, request_pace

    request_pace.init_app(app)  # under gevent only: a body sent too slowly is cut off

    app.register_blueprint(health.bp)
    return app
