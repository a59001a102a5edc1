"""PostgreSQL's own client programs (pg_dump, pg_restore, psql) for the server's major version.

``pg_dump`` must be at least as new as the server it dumps, and ``pg_restore`` must read what
that ``pg_dump`` wrote. Debian installs each major version's programs under
``/usr/lib/postgresql/<major>/bin`` (``/usr/bin/pg_dump`` is a wrapper that picks one by a
cluster of this machine, which a client of a remote server does not have): the programs of the
server's major version are taken from there, else the newest installed one that is not older,
else the one on ``PATH`` when its version is not older. ``PG_BIN_DIR`` names a folder to use
instead.

The connection is given as a libpq URI without the password; the password goes in the
``PGPASSWORD`` environment variable of the child process only (never on its command line, which
every user of the machine can read).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DEBIAN_BIN = "/usr/lib/postgresql/{major}/bin"


class ToolMissing(LookupError):
    """No program of a suitable version was found."""

    def __init__(self, name: str, major: int) -> None:
        super().__init__(name, major)
        self.name, self.major = name, major


@dataclass(frozen=True)
class Connection:
    """How a PostgreSQL client program reaches the database of a SQLAlchemy URL."""

    uri: str  # libpq URI, no password
    env: dict[str, str]  # the environment of the child process (with PGPASSWORD if any)


def connection(database_url: str) -> Connection:
    url = make_url(database_url)
    host = url.host or ""
    netloc = (f"{_quote(url.username)}@" if url.username else "") + (
        f"[{host}]" if ":" in host else host) + (f":{url.port}" if url.port else "")
    query = "&".join(f"{key}={_quote(str(value))}" for key, value in url.query.items()
                     if isinstance(value, str))
    uri = f"postgresql://{netloc}/{_quote(url.database or '')}" + (f"?{query}" if query else "")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return Connection(uri, env)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def major_of(server_version_num: int | str) -> int:
    """The major version of ``SHOW server_version_num`` (150018 → 15)."""
    return int(server_version_num) // 10000


def find(name: str, major: int) -> str:
    """The path of program ``name`` (pg_dump, pg_restore, psql) for a server of ``major``."""
    configured = os.environ.get("PG_BIN_DIR")
    if configured:
        path = Path(configured) / name
        if path.is_file():
            return str(path)
        raise ToolMissing(name, major)
    exact = Path(DEBIAN_BIN.format(major=major)) / name
    if exact.is_file():
        return str(exact)
    newer = sorted((int(found.split("/")[-3]), found)
                   for found in glob.glob(DEBIAN_BIN.format(major="*") + f"/{name}")
                   if found.split("/")[-3].isdigit() and int(found.split("/")[-3]) >= major)
    if newer:
        return newer[0][1]
    on_path = shutil.which(name)
    if on_path and (version_of(on_path) or 0) >= major:
        return on_path
    raise ToolMissing(name, major)


def version_of(program: str) -> int | None:
    """The major version a client program reports (``pg_dump (PostgreSQL) 15.18`` → 15)."""
    try:
        shown = subprocess.run([program, "--version"], capture_output=True, text=True,
                               timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", shown)
    return int(found.group(1)) if found else None
