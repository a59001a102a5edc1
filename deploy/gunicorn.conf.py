"""gunicorn's settings for Fangpin in production (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

Behind the buffering reverse proxy of ``deploy/nginx/fangpin.conf``: nginx reads every request
whole (headers and body, with its own timeouts) before it opens a connection to gunicorn, so a
slow or hostile client holds an nginx connection — a few hundred bytes of its event loop — and
never a gunicorn thread. That is the supported way to face phones on the internet.

Values come from the environment (the systemd unit's ``EnvironmentFile``), with these defaults.
"""

import os

# One instance per port (fangpin-web@8001, fangpin-web@8002): the unit passes --bind.
bind = os.environ.get("FANGPIN_BIND", "127.0.0.1:8001")

# gthread: a worker process runs THREADS requests at once (the database and the media store
# are waited on in threads); WORKERS processes use the cores. Two per core is a start.
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))

# A worker that has not reported for `timeout` s is killed and replaced (a hung request);
# exports and print batches stream and report meanwhile. On restart, requests in flight get
# `graceful_timeout` s to finish.
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 30

# Idle keep-alive connections from nginx are kept 75 s; nginx lets its own go after 60 s
# (``keepalive_timeout`` of the upstream), so it never sends a request on a connection
# gunicorn is closing (a POST it could not retry).
keepalive = 75

# Workers are replaced after this many requests (a slow leak cannot grow for ever), not all at
# once (jitter).
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10

# The request line and headers Collect and browsers send are far below these.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The proxy's X-Forwarded-For/-Proto are trusted from these addresses (gunicorn's own use);
# the app's client address (the login limiter) needs TRUSTED_PROXIES=1 as well.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
# Every access and error line redacted (a Collect token in /key/<token>/, an ID number or a
# phone in a query string, a password=…) and ending with the request id (rid=…), the
# X-Request-Id the app answers with and writes in its own JSON lines (server/logs.py).
logger_class = "server.logs.GunicornLogger"


def worker_exit(server, worker):
    """Close what the app opened for the process's life before the interpreter ends: the pool
    of connections that defers jobs (JOBS=procrastinate), whose threads would otherwise be
    left to the interpreter's finalization (under gevent an error at every worker's exit)."""
    app = getattr(worker, "wsgi", None)
    runner = getattr(app, "extensions", {}).get("fangpin.jobs")
    if hasattr(runner, "close"):
        runner.close()
