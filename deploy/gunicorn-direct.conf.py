"""gunicorn's settings for Fangpin WITHOUT a reverse proxy in front
(``gunicorn -c deploy/gunicorn-direct.conf.py wsgi:app``): phones and browsers reach gunicorn
itself. The recommended way is still nginx with ``deploy/gunicorn.conf.py`` (docs/production.md):
nginx buffers every request, ends TLS, limits and logs; use this file only where no proxy can
be run (a county server facing a closed network, a test machine), and read docs/production.md,
"Without a proxy".

Which file:
- behind nginx (``deploy/nginx/fangpin.conf``): ``deploy/gunicorn.conf.py`` (gthread: nginx hands
  over only whole requests, so a thread is never held by a slow client);
- facing clients directly: this file (gevent). With gthread a client that sends its body a byte
  a second holds a thread for as long as it likes: as many such clients as an instance has
  threads take them all and phones time out (tests/integration/test_direct_gunicorn.py). Under
  gevent each connection is a greenlet (a few KiB) waiting on the event loop, a worker holds
  ``worker_connections`` of them, and a body must arrive at a minimum pace
  (server/request_pace.py).

The rest of the settings (logging, request limits, worker recycling) are the proxied file's;
what differs is below. Values come from the environment, as there.
"""

import os
import runpy
import sys

_PROXIED = os.path.join(os.path.dirname(__file__), "gunicorn.conf.py")
globals().update({name: value for name, value in runpy.run_path(_PROXIED).items()
                  if not name.startswith("__")})

# Facing clients: listen on every address unless told otherwise (FANGPIN_BIND).
bind = os.environ.get("FANGPIN_BIND", "0.0.0.0:8000")

# gevent: one process per core, each serving up to WEB_CONNECTIONS connections at once on an
# event loop. gunicorn patches the standard library (gevent.monkey.patch_all) when a worker
# starts, BEFORE it imports the app (wsgi.py): psycopg, boto3's sockets and ssl are then
# cooperative. preload_app would import the app in the master before any patch: psycopg would
# pick its blocking wait and every query would stop the whole worker. Keep it off.
worker_class = "gevent"
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_connections = int(os.environ.get("WEB_CONNECTIONS", "1000"))
preload_app = False
# CPU-heavy work (argon2 checks, a printed form's layout) runs in OFFLOAD_THREADS real threads
# per worker (server/concurrency.py), so the loop keeps serving meanwhile.

# The loop reports to the master every second; a worker stuck longer than `timeout` s (a
# computation that was not offloaded) is killed and replaced.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30

# For async workers `keepalive` is also how long gunicorn waits for a request's line and
# headers, the first request included: a client that dribbles its headers is let go after it.
# The body is read by the app, against a deadline (BODY_TIMEOUT_SECONDS, BODY_MIN_RATE:
# server/request_pace.py); meanwhile a slow body holds a greenlet, not a thread.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "10"))

# No proxy: no X-Forwarded-* header is believed (and the app's TRUSTED_PROXIES must stay 0).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# TLS in gunicorn itself (ODK Collect sends a username and password only over https; the
# /key/<token> URLs work either way): the certificate chain and its key.
if os.environ.get("WEB_CERTFILE"):
    certfile = os.environ["WEB_CERTFILE"]
    keyfile = os.environ["WEB_KEYFILE"]

# The request line is shorter than the proxied file allows (nothing longer is ever sent).
limit_request_line = 4094


def post_worker_init(worker):
    """Refuse to serve from a worker whose database driver would block the event loop (an
    import of psycopg before the patch: a preloaded app, a hook importing the app)."""
    from server.concurrency import cooperative

    found = cooperative()
    if not all(found.values()):
        worker.log.critical("gevent worker not cooperative, refusing to serve: %s", found)
        sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the master stops rather than respawn
    worker.log.info("gevent worker cooperative: %s", found)
