"""Backup, restore and the media check (issue 15.11): ``fangpin backup``, ``restore`` and
``verify-media``.

A backup is a folder::

    DIR/manifest.json        written last: a folder without it is an unfinished backup
    DIR/database.dump        PostgreSQL: pg_dump's custom format (pg_restore reads it)
    DIR/database.sqlite3     SQLite: a copy made with SQLite's backup API
    DIR/media/<sha256>       every media object the database references

The database and the list of media it references are read from one consistent state: on
PostgreSQL one REPEATABLE READ transaction exports its snapshot, ``pg_dump --snapshot`` dumps
that snapshot, and the media keys and row counts are read in the same transaction; on SQLite
the copy is made first and the keys and counts are read from the copy. The media objects are
then copied from the store (local folder or S3), each hashed on the way: media are content
addressed, so an object whose bytes do not hash to its key is corrupt. Objects uploaded after
the snapshot are not in the backup; nothing in the backup's database references them.

Thumbnails are not backed up: they are derived objects, made again from their photo on first
use. The manifest lists the format, when it was made, the database kind, its Alembic revision,
the rows of every table, the SHA-256 of the database file, and every media object with its size
and SHA-256; objects the database references that the store lacks (``missing``) or holds
damaged (``corrupt``) are listed too, and make the backup fail (its manifest is still written:
the rest is a usable, if incomplete, backup).

A restore goes into an empty database (no table at all: create it, do not migrate it) and a
media store that holds nothing but this backup's objects (an interrupted restore may be run
again). Every file's SHA-256 is checked against the manifest before it is used; the database is
restored last, in one transaction, and its row counts are compared with the manifest's.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine, make_url

from media.store import (
    CHUNK_SIZE,
    MediaNotFound,
    MediaStore,
    copy_and_hash,
    is_key,
)
from server import pgtools
from server.clock import now
from server.domain.catalogue import CatalogueError
from server.progress import Tracker, tracker

FORMAT = "fangpin-backup"
VERSION = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}

# Every column that holds a media key (``tests/unit/test_backup_columns.py`` checks that no
# other column of the models looks like one): (table, key column, size column or None).
MEDIA_KEY_COLUMNS = (
    ("media_objects", "sha256", "size"),
    ("jobs", "result_key", "result_size"),
    ("submission_attachments", "media_sha256", None),
    ("rejected_uploads", "media_sha256", None),
    ("warning_lists", "media_sha256", None),
)
# JSON columns whose entries are media keys (a bare key, or an object with a "key").
MEDIA_KEY_LISTS = (("case_events", "signatures"), ("case_events", "attachments"))
# Columns named like one that hold no media key (the hash of something else).
NOT_MEDIA_KEYS = {("collect_tokens", "token_sha256"), ("submissions", "xml_sha256"),
                  ("login_failures", "key"), ("warning_rows", "task_key")}


class BackupError(CatalogueError):
    """A backup, restore or media check that cannot be done or did not complete."""


@dataclass
class MediaEntry:
    key: str
    size: int
    sha256: str


@dataclass
class BackupReport:
    directory: Path
    kind: str
    revision: str | None
    tables: dict[str, int]
    media: list[MediaEntry]
    missing: list[str]
    corrupt: list[str]

    @property
    def media_bytes(self) -> int:
        return sum(entry.size for entry in self.media)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.corrupt


@dataclass
class RestoreReport:
    kind: str
    tables: dict[str, int]
    media_put: int
    media_present: int
    missing: list[str]


@dataclass
class VerifyReport:
    referenced: int
    checked: int
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt


def kind_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in DATABASE_FILES:
        raise ValueError(f"不支持的数据库：{backend}")
    return backend


# --- what the database references ------------------------------------------------------------

def referenced_media(connection: Connection) -> dict[str, int | None]:
    """Every media key the database references, with the size it records (None: none)."""
    keys: dict[str, int | None] = {}
    tables = set(table_names(connection))
    for table, column, size_column in MEDIA_KEY_COLUMNS:
        if table not in tables:
            continue
        size = f", {size_column}" if size_column else ", NULL"
        rows = connection.execute(text(
            f"SELECT {column}{size} FROM {table} WHERE {column} IS NOT NULL"))
        for key, recorded in rows:
            if keys.get(key) is None:
                keys[key] = None if recorded is None else int(recorded)
    for table, column in MEDIA_KEY_LISTS:
        if table not in tables:
            continue
        for (entries,) in connection.execute(text(f"SELECT {column} FROM {table}")):
            for key in _keys_in(entries):
                keys.setdefault(key, None)
    return keys


def _keys_in(entries: object) -> Iterator[str]:
    if isinstance(entries, str):  # SQLite hands JSON back as text through a raw query
        try:
            entries = json.loads(entries)
        except ValueError:
            return
    for entry in entries if isinstance(entries, list) else ():
        key = entry.get("key") if isinstance(entry, dict) else entry
        if isinstance(key, str) and is_key(key):
            yield key


def table_names(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        query = ("SELECT tablename FROM pg_tables WHERE schemaname NOT IN "
                 "('pg_catalog', 'information_schema') ORDER BY tablename")
    else:
        query = ("SELECT name FROM sqlite_master WHERE type = 'table' "
                 "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return list(connection.execute(text(query)).scalars())


def row_counts(connection: Connection) -> dict[str, int]:
    quote = connection.dialect.identifier_preparer.quote
    return {name: int(connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar())
            for name in table_names(connection)}


def alembic_revision(connection: Connection) -> str | None:
    if "alembic_version" not in table_names(connection):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _engine(database_url: str) -> Iterator[Engine]:
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- backup ----------------------------------------------------------------------------------

def backup(database_url: str, store: MediaStore, directory: Path,
           progress: Tracker | None = None) -> BackupReport:
    """Back up the database and the media it references into ``directory`` (absent or
    empty). Raises ``BackupError`` BACKUP_INCOMPLETE, after writing the manifest, when
    referenced objects are missing or corrupt."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError("BACKUP_DIR_NOT_EMPTY", directory=str(directory))
    kind = kind_of(database_url)
    (directory / MEDIA).mkdir(parents=True, exist_ok=True)
    database_file = directory / DATABASE_FILES[kind]
    created = now()
    if kind == "postgresql":
        keys, tables, revision = _dump_postgresql(database_url, database_file)
    else:
        keys, tables, revision = _copy_sqlite(database_url, database_file)
    media, missing, corrupt = _copy_media(store, keys, directory / MEDIA, tracker(progress))
    report = BackupReport(directory, kind, revision, tables, media, missing, corrupt)
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": created.isoformat(),
        "database": {"kind": kind, "file": database_file.name,
                     "sha256": _file_sha256(database_file), "size": database_file.stat().st_size,
                     "alembic_revision": revision},
        "tables": tables,
        "media": [{"key": e.key, "size": e.size, "sha256": e.sha256} for e in media],
        "missing": missing, "corrupt": corrupt,
    }
    _write_atomically(directory / MANIFEST,
                      json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    _audit(database_url, "backup.created", created.isoformat(), directory, kind=kind,
           revision=revision,
           media=len(media), media_bytes=report.media_bytes, missing=len(missing),
           corrupt=len(corrupt))
    return report


def _dump_postgresql(database_url: str, target: Path
                     ) -> tuple[dict[str, int | None], dict[str, int], str | None]:
    with _engine(database_url) as engine, engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            major = pgtools.major_of(connection.execute(text("SHOW server_version_num")).scalar())
            # pg_dump reads the snapshot while this transaction holds it open
            _run_tool("pg_dump", major, ["--format=custom", f"--snapshot={snapshot}",
                                         f"--file={target}"], database_url)
            keys = referenced_media(connection)
            tables = row_counts(connection)
            revision = alembic_revision(connection)
    return keys, tables, revision


def _copy_sqlite(database_url: str, target: Path
                 ) -> tuple[dict[str, int | None], dict[str, int], str | None]:
    source_path = make_url(database_url).database
    if not source_path or not Path(source_path).is_file():
        raise BackupError("BACKUP_DUMP_FAILED", program="sqlite3", status=1,
                          detail=f"数据库文件 {source_path} 不存在")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # a consistent copy, while writers go on (they wait or retry)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    with _engine(f"sqlite:///{target}") as engine, engine.connect() as connection:
        return referenced_media(connection), row_counts(connection), alembic_revision(connection)


def _copy_media(store: MediaStore, keys: dict[str, int | None], folder: Path,
                progress: Tracker) -> tuple[list[MediaEntry], list[str], list[str]]:
    media: list[MediaEntry] = []
    missing: list[str] = []
    corrupt: list[str] = []
    progress.start(len(keys))
    for key in sorted(keys):
        target = folder / key
        try:
            with store.open(key) as source, _atomic_file(target) as out:
                stored = copy_and_hash(source, out)
                if stored.key != key or (keys[key] is not None and stored.size != keys[key]):
                    raise _Corrupt
        except MediaNotFound:
            missing.append(key)
            progress.advance(0, 1)
            continue
        except _Corrupt:
            corrupt.append(key)
            progress.advance(0, 1)
            continue
        media.append(MediaEntry(key, stored.size, stored.key))
        progress.advance()
    return media, missing, corrupt


class _Corrupt(Exception):
    pass


# --- restore ---------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError("BACKUP_MANIFEST_INVALID", directory=str(directory),
                          reason=f"没有 {MANIFEST}（备份未完成或不是备份目录）") from None
    except ValueError as error:
        raise BackupError("BACKUP_MANIFEST_INVALID", directory=str(directory),
                          reason=f"{MANIFEST} 无法读取：{error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("BACKUP_MANIFEST_INVALID", directory=str(directory),
                          reason=f"{MANIFEST} 不是防返贫监测的备份清单")
    if manifest.get("version") != VERSION:
        raise BackupError("BACKUP_MANIFEST_INVALID", directory=str(directory),
                          reason=f"备份格式版本 {manifest.get('version')} 不受支持")
    return manifest


def restore(database_url: str, store: MediaStore, directory: Path,
            accept_incomplete: bool = False, progress: Tracker | None = None) -> RestoreReport:
    """Restore the backup in ``directory`` into an empty database and store."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    progress = tracker(progress)
    lost = list(manifest.get("missing", [])) + list(manifest.get("corrupt", []))
    if lost and not accept_incomplete:
        raise BackupError("RESTORE_INCOMPLETE_BACKUP", missing=len(lost))
    kind = kind_of(database_url)
    database = manifest["database"]
    if database["kind"] != kind:
        raise BackupError("RESTORE_DATABASE_KIND", backup=database["kind"], target=kind)
    tables = _existing_tables(database_url)
    if tables:
        raise BackupError("RESTORE_DATABASE_NOT_EMPTY", tables=len(tables))
    database_file = directory / database["file"]
    if not database_file.is_file() or _file_sha256(database_file) != database["sha256"]:
        raise BackupError("RESTORE_HASH_MISMATCH", name=database["file"])
    entries = manifest["media"]
    wanted = {entry["key"] for entry in entries}
    others = [key for key in store.iter_keys() if key not in wanted]
    if others:
        raise BackupError("RESTORE_STORE_NOT_EMPTY", count=len(others), key=others[0])

    progress.start(len(entries))
    put = present = 0
    for entry in entries:
        if _restore_object(store, directory / MEDIA / entry["key"], entry):
            put += 1
        else:
            present += 1
        progress.advance()
    if kind == "postgresql":
        _run_tool("pg_restore", _server_major(database_url),
                  ["--single-transaction", "--exit-on-error", "--no-owner", "--no-acl",
                   str(database_file)], database_url, flag="--dbname")
    else:
        _restore_sqlite(database_file, database_url)
    with _engine(database_url) as engine, engine.connect() as connection:
        restored = row_counts(connection)
    for table, expected in manifest["tables"].items():
        if restored.get(table) != expected:
            raise BackupError("RESTORE_COUNTS_MISMATCH", table=table,
                              found=restored.get(table, 0), expected=expected)
    _audit(database_url, "backup.restored", str(manifest.get("created_at")), directory,
           kind=kind, media=len(entries), missing=len(lost))
    return RestoreReport(kind, restored, put, present, lost)


def _restore_object(store: MediaStore, path: Path, entry: dict) -> bool:
    """Put one object, checked; False when the store already holds it (checked too)."""
    key = entry["key"]
    if not path.is_file() or _file_sha256(path) != entry["sha256"] or entry["sha256"] != key:
        raise BackupError("RESTORE_HASH_MISMATCH", name=f"{MEDIA}/{key}")
    if store.exists(key):
        with store.open(key) as held:
            if copy_and_hash(held, cast(BinaryIO, _Discard())).key != key:
                raise BackupError("RESTORE_HASH_MISMATCH", name=f"媒体存储中已有的 {key}")
        return False
    with path.open("rb") as source:
        stored = store.put(source)
    if stored.key != key:  # the file changed under us
        raise BackupError("RESTORE_HASH_MISMATCH", name=f"{MEDIA}/{key}")
    return True


def _existing_tables(database_url: str) -> list[str]:
    if kind_of(database_url) == "sqlite":
        path = make_url(database_url).database
        if not path or not Path(path).exists() or Path(path).stat().st_size == 0:
            return []
    with _engine(database_url) as engine, engine.connect() as connection:
        return table_names(connection)


def _restore_sqlite(source_file: Path, database_url: str) -> None:
    target = make_url(database_url).database
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_file)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # one write transaction on the target: all or nothing
    finally:
        copy.close()
        source.close()


def _server_major(database_url: str) -> int:
    with _engine(database_url) as engine, engine.connect() as connection:
        return pgtools.major_of(connection.execute(text("SHOW server_version_num")).scalar())


# --- the media check -------------------------------------------------------------------------

def verify_media(database_url: str, store: MediaStore, sample: int | None = None,
                 progress: Tracker | None = None, rng: random.Random | None = None
                 ) -> VerifyReport:
    """Check that every media object the database references (or a random ``sample`` of
    them) is in the store with bytes that hash to its key and the size recorded."""
    with _engine(database_url) as engine, engine.connect() as connection:
        keys = referenced_media(connection)
    chosen = sorted(keys)
    if sample is not None and sample < len(chosen):
        chosen = sorted((rng or random.Random()).sample(chosen, sample))
    report = VerifyReport(referenced=len(keys), checked=len(chosen))
    progress = tracker(progress)
    progress.start(len(chosen))
    for key in chosen:
        try:
            with store.open(key) as held:
                stored = copy_and_hash(held, cast(BinaryIO, _Discard()))
        except MediaNotFound:
            report.missing.append(key)
            progress.advance(0, 1)
            continue
        if stored.key != key or (keys[key] is not None and stored.size != keys[key]):
            report.corrupt.append(key)
            progress.advance(0, 1)
            continue
        progress.advance()
    return report


# --- helpers ---------------------------------------------------------------------------------

def _run_tool(name: str, major: int, arguments: list[str], database_url: str,
              flag: str = "--dbname") -> None:
    try:
        program = pgtools.find(name, major)
    except pgtools.ToolMissing:
        raise BackupError("BACKUP_TOOL_MISSING", name=name, major=major) from None
    reach = pgtools.connection(database_url)
    finished = subprocess.run([program, *arguments, f"{flag}={reach.uri}"], env=reach.env,
                              capture_output=True, text=True)
    if finished.returncode != 0:
        raise BackupError("BACKUP_DUMP_FAILED", program=name, status=finished.returncode,
                          detail=finished.stderr.strip()[-2000:])


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


@contextmanager
def _atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A file written whole or not at all (a temp file renamed into place)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            yield cast(BinaryIO, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(name)
        raise


def _write_atomically(target: Path, content: bytes) -> None:
    with _atomic_file(target) as out:
        out.write(content)


def _audit(database_url: str, action: str, created_at: str, directory: Path,
           **details: object) -> None:
    """The audit entry of a backup (in the database backed up) or a restore (in the restored
    database), by the machine's operator (no user of the application); the backup is named by
    when it was made, its folder is in the details."""
    from sqlalchemy.orm import Session

    from server.audit.services import record

    with _engine(database_url) as engine, Session(engine) as session, session.begin():
        record(session, action, "backup", created_at, None,
               directory=str(Path(directory).resolve()), **details)
