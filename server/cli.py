"""The ``fangpin`` command: database, areas, forms, users, tokens and the demo."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from functools import partial
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import create_app
from server.db import database


@contextmanager
def _session() -> Iterator[Session]:
    """A command's unit of work: committed when the block ends, rolled back on an error."""
    with database().unit_of_work() as unit:
        yield unit.session


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True,
             add_version_option=False)
def main() -> None:
    """防返贫监测 — server administration."""


def _migrate() -> None:
    """Schema up to date (Alembic), then the bundled reference data that is not there yet."""
    from server.figures.services import load_bundled, load_bundled_deadlines
    from server.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    with _session() as session:
        load_bundled(session)
        load_bundled_deadlines(session)


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date and load the bundled yearly figures."""
    _migrate()
    click.echo("数据库结构已更新")


@main.command("import-areas")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--under", required=True, help="the code of the subtree to import, e.g. 430421")
def import_areas_command(csv_file: Path, under: str) -> None:
    """Import a subtree of national area codes (code,name,level,parent_code)."""
    from server.areas.services import import_areas, read_area_csv
    from server.progress import Progress

    with Progress(label="导入区划", stream=sys.stderr) as progress, _session() as session:
        count = import_areas(session, read_area_csv(csv_file), under, progress=progress)
    click.echo(f"已导入 {count} 个区划")


@main.command("publish-forms")
def publish_forms_command() -> None:
    """Build every XLSForm in xlsforms/ and publish the versions that changed."""
    from server.forms.services import publish_directory

    with _session() as session:
        for result in publish_directory(session, Path(current_app.config["XLSFORMS_DIR"])):
            state = "新版本" if result.new else "未变化"
            click.echo(f"  {result.form_id}  版本 {result.version}  {state}")


@main.command("issue-token")
@click.argument("username")
@click.option("--revoke-old", is_flag=True, help="revoke the user's earlier tokens")
def issue_token_command(username: str, revoke_old: bool) -> None:
    """Make a Collect token for a user and print the server URL to type or scan."""
    from server.accounts import collect
    from server.accounts.models import User
    from server.auth import issue_token, revoke_tokens

    with _session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"没有用户 {username}")
        if revoke_old:
            revoke_tokens(session, user)
        url = collect.server_url(current_app.config["PUBLIC_URL"], issue_token(session, user))
    png = Path(current_app.instance_path) / f"collect-{username}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    collect.write_qr_png(collect.settings(url, current_app.config["PROJECT_NAME"], username), png)
    click.echo(f"服务器地址: {url}\n设置二维码: {png}")


@main.command("create-admin")
@click.option("--username", required=True, help="the admin's user name")
@click.option("--full-name", required=True, help="the admin's full name")
@click.option("--area", "area_code", default=None,
              help="the admin's area code (default: the one county imported)")
@click.option("--password-stdin", is_flag=True,
              help="read the password from standard input (one line) instead of a prompt")
def create_admin_command(username: str, full_name: str, area_code: str | None,
                         password_stdin: bool) -> None:
    """Create an admin account (the first one on a new server). The password is asked twice
    without echo, or read from standard input: never on the command line."""
    from server.accounts.services import create_admin
    from server.areas.models import Area
    from server.errors import AppError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码 (password)", hide_input=True,
                                confirmation_prompt="再次输入密码 (again)")
    try:
        with _session() as session:
            if area_code is None:
                counties = session.scalars(select(Area.code).where(Area.level == "county")).all()
                if len(counties) != 1:
                    raise click.ClickException(
                        "请用 --area 指定管理员的区划代码（已导入的县："
                        f"{'、'.join(counties) or '无，请先 fangpin import-areas'}）")
                area_code = counties[0]
            user = create_admin(session, username=username, full_name=full_name,
                                password=password, area_code=area_code)
            made = (user.username, user.area_code)
    except AppError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    click.echo(f"已创建管理员 {made[0]}（区划 {made[1]}）")


@main.command("demo")
def demo_command() -> None:
    """Migrate, publish the forms and load the demo data; print how to connect."""
    from server.demo import load_demo
    from server.errors import AppError
    from server.forms.services import publish_directory

    config = current_app.config
    _migrate()
    try:
        with _session() as session:  # refused: the forms published here are rolled back too
            publish_directory(session, Path(config["XLSFORMS_DIR"]))
            lines = load_demo(session, config["PUBLIC_URL"], config["PROJECT_NAME"],
                              Path(current_app.instance_path) / "demo",
                              current_app.extensions["fangpin.media"])
    except AppError as error:
        raise click.ClickException(
            f"{error.code}: {error.message}\n(The database already holds data the demo did not "
            "make; fangpin demo runs only on an empty or demo database.)") from error
    click.echo(f"\n防返贫监测服务器: {config['PUBLIC_URL']}")
    click.echo(f"网页控制台: {config['PUBLIC_URL'].rstrip('/')}/console/（用下列演示用户登录）")
    click.echo(f"数据库: {config['DATABASE_URL']}\n媒体存储: {config['MEDIA_STORE']}")
    click.echo("演示用户:")
    for line in lines:
        click.echo(line)
    if _is_loopback(config["PUBLIC_URL"]):
        click.echo(f"\n警告：服务器地址 {config['PUBLIC_URL']} 是本机回环地址，手机无法连接。"
                   "请设置环境变量 PUBLIC_URL 为手机可访问的地址"
                   f"（如 http://192.168.1.10:{config['PORT']}）后重新运行 fangpin demo。",
                   err=True)


def _is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command("apply-pending")
@click.option("--failed", "retry_failed", is_flag=True,
              help="also try again the submissions whose take-in failed (after a fix)")
def apply_pending_command(retry_failed: bool) -> None:
    """Take every submission still 'received' into the registry (after a failed inline job).

    One submission at a time, each in its own transaction: one that fails is marked 'failed'
    (or, when the database cannot be reached, stays 'received') and the rest go on.
    """
    from server.intake import take_in
    from server.progress import Progress
    from server.submissions.models import Submission, SubmissionState

    wanted = [SubmissionState.RECEIVED] + ([SubmissionState.FAILED] if retry_failed else [])
    with _session() as session:
        pending = session.scalars(select(Submission.id).where(
            Submission.state.in_(wanted)).order_by(Submission.id)).all()
    states: dict[str, int] = {}
    with Progress(len(pending), label="登记提交", stream=sys.stderr) as progress:
        for submission_id in pending:
            try:
                with _session() as session:
                    submission = session.get(Submission, submission_id)
                    if submission.state == SubmissionState.FAILED:
                        submission.state = SubmissionState.RECEIVED
                    state = take_in(session, submission_id)
            except Exception as exc:  # the database itself: report it and go on with the next
                click.echo(f"提交 {submission_id} 未处理：{type(exc).__name__}: {exc}", err=True)
                state = "error"
            states[state] = states.get(state, 0) + 1
            failed = state in ("error", SubmissionState.FAILED)
            progress.advance(0 if failed else 1, 1 if failed else 0)
    summary = "，".join(f"{state} {n}" for state, n in sorted(states.items())) or "无"
    click.echo(f"处理 {len(pending)} 份提交：{summary}")


@main.command("worker")
@click.option("--batch", default=200, show_default=True,
              help="submissions per transaction (taken in together: set-based)")
@click.option("--poll", default=0.5, show_default=True, help="seconds between idle polls")
@click.option("--busy-rate", default=20, show_default=True,
              help="submissions per second that make a burst the worker waits out (0: never)")
@click.option("--max-backlog", default=5000, show_default=True,
              help="backlog at which the worker takes in even during a burst")
@click.option("--max-lag", default=30.0, show_default=True,
              help="seconds the oldest waiting submission waits before the worker takes in "
                   "even during a burst (a steady rate above --busy-rate cannot stall it)")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="processes taking in at once once a burst is over [default: the CPUs, at "
                   "most 4, on PostgreSQL; 1 on SQLite]; during a burst only one of them does")
@click.option("--helper-of", type=int, default=None, hidden=True,
              help="one of --processes' extra processes, started by the main one (its pid)")
@click.option("--ready-fd", type=int, default=None, hidden=True,
              help="a helper's pipe to the main process: one byte once it is ready")
def worker_command(batch: int, poll: float, busy_rate: int, max_backlog: int,
                   max_lag: float, processes: int | None, helper_of: int | None,
                   ready_fd: int | None) -> None:
    """Take received submissions into the registry as they arrive (TAKE_IN=queue)."""
    import logging
    import os
    import signal
    import threading

    from server.intake.worker import Pacing, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    helper = helper_of is not None
    db = database()
    if processes is None:
        processes = 1 if helper else _worker_processes(db.engine.dialect.name)
    elif processes > 1 and db.engine.dialect.name == "sqlite":
        raise click.BadParameter("SQLite 一次只有一个写入者：只能使用 1 个进程",
                                 param_hint="--processes")

    def report(batch_report) -> None:
        click.echo(f"登记 {batch_report.taken} 份：{batch_report.states}"
                   + (f"，失败 {batch_report.failed}" if batch_report.failed else ""))

    # systemd stops a service with SIGTERM: the batch under way commits (or rolls back whole)
    # and the worker exits 0, as for Ctrl-C, instead of dying mid-transaction.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    helpers = []
    if helper:
        _stop_when_orphaned(stop, helper_of)
        click.echo(f"登记辅助进程已启动（主进程 {helper_of}）")
        if ready_fd is not None:
            os.write(ready_fd, b".")
            os.close(ready_fd)
    else:
        options = ["--batch", str(batch), "--poll", str(poll), "--busy-rate", str(busy_rate),
                   "--max-backlog", str(max_backlog), "--max-lag", str(max_lag)]
        # The main process starts once its helpers have (or a minute has passed): the start
        # line means every process is taking in.
        ready, ready_w = os.pipe()
        helpers = [subprocess.Popen([sys.executable, "-m", "server.cli", "worker",
                                     "--helper-of", str(os.getpid()), "--ready-fd", str(ready_w),
                                     *options], pass_fds=(ready_w,))
                   for _ in range(processes - 1)]
        os.close(ready_w)
    try:
        with suppress(KeyboardInterrupt):
            if not helper:
                _wait_until_ready(ready, len(helpers))
                click.echo(f"登记工作进程已启动（{processes} 个进程，每批 {batch} 份，"
                           f"空闲时每 {poll} 秒检查一次）")
            run_worker(db, batch=batch, poll=poll, stop=stop, helper=helper,
                       pacing=Pacing(busy_rate, max_backlog, max_lag), on_batch=report)
    finally:
        _stop_helpers(helpers)
    if not helper:
        click.echo("登记工作进程已停止")


def _worker_processes(dialect: str) -> int:
    """``fangpin worker``'s default ``--processes``: one per CPU (at most 4) on PostgreSQL,
    which hands each batch to one of them (``FOR UPDATE SKIP LOCKED``); SQLite has one writer."""
    import os

    if dialect == "sqlite":
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def _wait_until_ready(pipe: int, helpers: int, timeout: float = 60.0) -> None:
    """Read a byte per helper from ``pipe`` (closed after), for ``timeout`` s at most; a helper
    that dies first closes its end, and the read ends when all have."""
    import os
    import select
    import time

    deadline, got = time.monotonic() + timeout, 0
    try:
        while got < helpers:
            if not select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            data = os.read(pipe, helpers - got)
            if not data:
                break
            got += len(data)
    finally:
        os.close(pipe)
    if got < helpers:
        click.echo(f"{helpers - got} 个登记辅助进程未就绪；主进程照常开始", err=True)


def _stop_when_orphaned(stop, parent: int) -> None:
    """A helper stops (after its batch) once its main process ``parent`` is gone, however it
    went (even before the helper got this far)."""
    import os
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            if stop.wait(1.0):
                return
        stop.set()

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _stop_helpers(helpers: list, grace: float = 120.0) -> None:
    """SIGTERM to each helper (each commits or rolls back its batch), then wait for them."""
    for proc in helpers:
        if proc.poll() is None:
            proc.terminate()
    for proc in helpers:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@main.command("jobs")
@click.option("--concurrency", default=1, show_default=True, help="jobs run at once")
@click.option("--until-empty", is_flag=True, help="stop once no job is waiting")
@click.option("--requeue", is_flag=True,
              help="first defer again the jobs still queued (their deferral had failed)")
def jobs_command(concurrency: int, until_empty: bool, requeue: bool) -> None:
    """Run background jobs (large exports, print batches) deferred to procrastinate
    (JOBS=procrastinate, PostgreSQL)."""
    import logging

    from flask import current_app
    from sqlalchemy import select

    from server.domain.jobs import JobState
    from server.jobs.models import Job
    from server.jobs.runners import ProcrastinateJobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runner = current_app.extensions["fangpin.jobs"]
    if not isinstance(runner, ProcrastinateJobs):
        raise click.ClickException("后台任务在服务器进程中运行（JOBS=thread），无需另行启动："
                                   "设置 JOBS=procrastinate（PostgreSQL）后再运行本命令")
    if requeue:
        with _session() as session:
            waiting = session.scalars(select(Job.id).where(
                Job.state == JobState.QUEUED.value)).all()
        for job_id in waiting:
            runner(job_id)
        click.echo(f"重新排队 {len(waiting)} 个任务")
    click.echo(f"后台任务进程已启动（同时运行 {concurrency} 个）")
    runner.work(wait=not until_empty, concurrency=concurrency)


class Age(click.ParamType):
    """A period back from now: ``90d`` (days) or ``12h`` (hours)."""

    name = "age"
    _UNITS = {"d": "days", "h": "hours"}

    def convert(self, value, param, ctx) -> tuple[str, timedelta]:
        import re

        found = re.fullmatch(r"\s*(\d{1,6})\s*([dhDH])\s*", str(value))
        if found is None:
            self.fail(f"“{value}”不是有效的时长：请写成天数或小时数，如 90d、12h", param, ctx)
        amount, unit = int(found.group(1)), found.group(2).lower()
        return f"{amount}{unit}", timedelta(**{self._UNITS[unit]: amount})


@main.command("prune-rejected")
@click.option("--older-than", "age", type=Age(), required=True,
              help="remove refused uploads received longer ago than this: 90d, 12h")
def prune_rejected_command(age: tuple[str, timedelta]) -> None:
    """Remove the refused submissions kept for recovery (rejected_uploads, with the XML they
    kept) that were received before the retention period; audited."""
    from server.clock import now
    from server.submissions.services import prune_rejected

    spelled, period = age
    before = now() - period
    with _session() as session:
        pruned = prune_rejected(session, before, older_than=spelled)
    click.echo(f"已删除 {pruned.removed} 条被拒收的提交记录"
               f"（{before:%Y-%m-%d %H:%M} UTC 之前接收），释放 {pruned.freed} 字节，"
               "已记入审计日志")


@main.command("recheck-registry")
def recheck_registry_command() -> None:
    """Scan the whole registry for likely duplicates (same name and birth date, one digit)."""
    from server.dedup.services import recheck_registry
    from server.progress import Progress

    with Progress(label="排查疑似重复", stream=sys.stderr) as progress, _session() as session:
        report = recheck_registry(session, progress=progress)
    click.echo(f"人员 {report.people}，同名同生日组 {report.groups}，"
               f"新标记疑似重复 {report.new_flags}")



@main.command("export")
@click.argument("dataset")
@click.option("--user", "username", required=True, help="who exports (their role and area apply)")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the file to write")
@click.option("--labels", is_flag=True, help="write the codes' Chinese labels")
@click.option("--profile", type=click.Choice(["full", "national"]), default="full",
              show_default=True)
@click.option("--full", "full_numbers", is_flag=True,
              help="full ID and phone numbers (county and admin users only; audited)")
@click.option("--area", "area_code", help="an area code inside the user's area")
@click.option("--monitoring-type", help="monitoring type code (监测对象类型): 01, 02, 03")
@click.option("--risk", help="a numbered risk 1-14")
@click.option("--procedure", type=click.Choice(["identification", "elimination"]))
@click.option("--step", help="a procedure step, e.g. county_approval")
@click.option("--status", type=click.Choice(["open", "done", "rejected"]))
@click.option("--visit-from", help="YYYY-MM-DD")
@click.option("--visit-to", help="YYYY-MM-DD")
@click.option("--approved-from", help="YYYY-MM-DD (Beijing)")
@click.option("--approved-to", help="YYYY-MM-DD (Beijing)")
@click.option("--objects", is_flag=True, help="monitoring objects only")
def export_command(dataset: str, username: str, fmt: str, out: Path, labels: bool,
                   profile: str, full_numbers: bool, **filters: str | bool | None) -> None:
    """Export a dataset (households, members, measures, eliminations, cases, case_events,
    warnings, evaluations) to a CSV or XLSX file, or the photos and signatures (media) to a
    ZIP, as USER would from the API; audited."""
    from server.accounts.models import User
    from server.auth import Principal
    from server.errors import AppError
    from server.exports import services

    arguments: dict[str, object] = {"format": fmt, "profile": profile,
                                    "labels": "1" if labels else "0",
                                    "full": "1" if full_numbers else "0"}
    arguments.update({key: ("1" if value is True else value) for key, value in filters.items()
                      if value not in (None, False)})
    try:
        with _session() as session:
            account = session.scalar(select(User).where(User.username == username,
                                                        User.active.is_(True)))
            if account is None:
                raise click.ClickException(f"没有启用的用户 {username}")
            if dataset == "media":  # the photos and signatures: a ZIP, filters only
                for key in ("format", "profile", "labels", "full"):
                    arguments.pop(key)
                export = services.prepare_media(session, Principal.of(account), arguments)
            else:
                export = services.prepare(session, Principal.of(account), dataset, arguments)
        db = database()
        if dataset == "media":
            total = services.media_count(db, export)
            chunks = partial(services.produce_media, db, current_app.extensions["fangpin.media"],
                             export)
            label = "打包照片和签名"
        else:
            total = services.row_count(db, export)
            chunks = partial(services.produce, db, export)
            label = f"导出{export.dataset.title}"
        with out.open("wb") as target, click.progressbar(
                length=total, label=label, show_pos=True, file=sys.stderr) as bar:
            for chunk in chunks(progress=bar.update):
                target.write(chunk)
    except AppError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    unit_name = "个文件" if dataset == "media" else "行"
    click.echo(f"已导出 {total} {unit_name}到 {out}（{export.file_name}），已记入审计日志")


# --- backup, restore and the media check (server/backup.py; docs/operations.md) ---------------

def _backup_refusal(error) -> click.ClickException:
    """A backup's refusal as the command's error: its code, then its message."""
    return click.ClickException(f"{error.code}: {error.message}")


@main.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path) -> None:
    """Back up the database and the media it references into DIRECTORY (absent or empty), with
    a manifest of SHA-256s; a consistent state of both (PostgreSQL: pg_dump of one snapshot)."""
    from server.backup import BackupError, backup
    from server.progress import Progress

    store = current_app.extensions["fangpin.media"]
    try:
        with Progress(label="备份媒体文件", stream=sys.stderr) as progress:
            report = backup(current_app.config["DATABASE_URL"], store, directory,
                            progress=progress)
    except BackupError as error:
        raise _backup_refusal(error) from error
    click.echo(f"已备份 {report.kind} 数据库（{len(report.tables)} 个表，"
               f"{sum(report.tables.values())} 行，迁移版本 {report.revision}）和 "
               f"{len(report.media)} 个媒体文件（{report.media_bytes} 字节）到 {directory}")
    if not report.complete:
        for key in report.missing:
            click.echo(f"缺失：{key}", err=True)
        for key in report.corrupt:
            click.echo(f"损坏：{key}", err=True)
        raise _backup_refusal(BackupError(
            "BACKUP_INCOMPLETE", missing=len(report.missing), corrupt=len(report.corrupt),
            manifest=str(directory / "manifest.json")))


@main.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--accept-incomplete", is_flag=True,
              help="restore a backup whose manifest lists missing or corrupt media objects")
def restore_command(directory: Path, accept_incomplete: bool) -> None:
    """Restore a backup made by `fangpin backup` into the configured database (new and empty:
    not migrated) and media store (empty, or holding only this backup's objects)."""
    from server.backup import BackupError, restore
    from server.progress import Progress

    current_app.extensions["fangpin.db"].engine.dispose()  # hold no connection to the target
    store = current_app.extensions["fangpin.media"]
    try:
        with Progress(label="恢复媒体文件", stream=sys.stderr) as progress:
            report = restore(current_app.config["DATABASE_URL"], store, directory,
                             accept_incomplete=accept_incomplete, progress=progress)
    except BackupError as error:
        raise _backup_refusal(error) from error
    click.echo(f"已恢复 {report.kind} 数据库（{len(report.tables)} 个表，"
               f"{sum(report.tables.values())} 行，与备份清单一致）和 "
               f"{report.media_put + report.media_present} 个媒体文件"
               f"（新写入 {report.media_put}，已存在 {report.media_present}）"
               + (f"；备份缺失的 {len(report.missing)} 个文件未恢复" if report.missing else "")
               + "，已记入审计日志")


@main.command("verify-media")
@click.option("--sample", type=click.IntRange(min=1), default=None,
              help="check a random sample of this many objects instead of all")
def verify_media_command(sample: int | None) -> None:
    """Check that every media object the database references is in the store, whole (its
    bytes hash to its SHA-256 key, its size is the recorded one)."""
    from server.backup import BackupError, verify_media
    from server.progress import Progress

    store = current_app.extensions["fangpin.media"]
    with Progress(label="检查媒体文件", stream=sys.stderr) as progress:
        report = verify_media(current_app.config["DATABASE_URL"], store, sample=sample,
                              progress=progress)
    for key in report.missing:
        click.echo(f"缺失：{key}")
    for key in report.corrupt:
        click.echo(f"损坏：{key}")
    click.echo(f"数据库引用 {report.referenced} 个媒体文件，检查 {report.checked} 个：缺失 "
               f"{len(report.missing)}，损坏 {len(report.corrupt)}")
    if not report.ok:
        raise _backup_refusal(BackupError("MEDIA_VERIFY_FAILED", missing=len(report.missing),
                                          corrupt=len(report.corrupt)))


if __name__ == "__main__":
    main()
