"""The production path as the files of ``deploy/`` describe it, started by a test: app instances
under gunicorn with ``deploy/gunicorn.conf.py``, ``fangpin worker`` processes, and nginx with the
site of ``deploy/nginx/`` (TLS with a certificate made for the test) in front of them.

The nginx site is the shipped file itself with its machine-specific values replaced (ports,
certificate, log paths); each replacement must find its text, so a change to the shipped file
that the test no longer covers fails here rather than going unnoticed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from server.config import PROJECT_ROOT
from tests.support.postgres import free_port

DEPLOY = PROJECT_ROOT / "deploy"
BIN = Path(sys.executable).parent


class NginxUnavailable(RuntimeError):
    pass


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if not found:
        raise NginxUnavailable("nginx was not found: install it (Debian: apt-get install nginx)")
    return found


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own authority: clients verify against the file)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/nginx: {old!r} is no longer in the shipped file"
    return text.replace(old, new)


def nginx_config(folder: Path, https_port: int, http_port: int, upstreams: list[int],
                 cert: Path, key: Path) -> Path:
    """The shipped site and log format inside a main configuration of the test's own."""
    site = (DEPLOY / "nginx" / "fangpin.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n"
                      for port in upstreams)
    site = _replace(site, "    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
                          "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;\n", servers)
    site = _replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace(site, "/etc/ssl/fangpin/fullchain.pem", str(cert))
    site = _replace(site, "/etc/ssl/fangpin/privkey.pem", str(key))
    site = _replace(site, "/var/log/nginx/fangpin.access.log", str(folder / "access.log"))
    log_format = (DEPLOY / "nginx" / "fangpin-log.conf").read_text()
    temp = folder / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 1;
daemon off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} info;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    access_log off;
{log_format}
{site}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


@dataclass
class Stack:
    """What ``running_stack`` started: the proxy's URLs and each process's log."""

    url: str  # https, through nginx
    http_url: str  # the plain-http server that redirects
    certificate: Path
    instances: list[str]  # each app instance's own URL (behind the proxy)
    folder: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60,
              verify: Path | bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited\n{log.read_text(errors='replace')}")
        try:
            if requests.get(url, timeout=2, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s\n{log.read_text(errors='replace')}")


@contextmanager
def running_stack(folder: Path, environment: dict[str, str], *, instances: int = 2,
                  workers: int = 2, worker_args: tuple[str, ...] = (), web_workers: int = 1,
                  web_threads: int = 4) -> Iterator[Stack]:
    """Start ``instances`` gunicorns (deploy/gunicorn.conf.py, each ``web_workers`` worker
    processes of ``web_threads`` threads: by default one of 4, to fit the test machine),
    ``workers`` ``fangpin worker`` processes and nginx with the shipped site in front; stop them
    all afterwards."""
    env = {**os.environ, **environment, "PYTHONPATH": str(PROJECT_ROOT),
           "WEB_WORKERS": str(web_workers), "WEB_THREADS": str(web_threads)}
    processes: dict[str, subprocess.Popen] = {}
    logs = []

    def start(name: str, command: list[str], **extra) -> subprocess.Popen:
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, env={**env, **extra})
        processes[name] = process
        return process

    try:
        ports = [free_port() for _ in range(instances)]
        for n, port in enumerate(ports):
            start(f"web{n}", [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"),
                              "wsgi:app"],
                  FANGPIN_BIND=f"127.0.0.1:{port}",
                  WEB_ACCESS_LOG=str(folder / f"web{n}.access.log"))
        for n, port in enumerate(ports):
            _wait_for(f"http://127.0.0.1:{port}/health/live", processes[f"web{n}"],
                      folder / f"web{n}.log")
        for n in range(workers):
            start(f"worker{n}", [str(BIN / "fangpin"), "worker", *worker_args])
        cert, key = self_signed_certificate(folder)
        https_port, http_port = free_port(), free_port()
        config = nginx_config(folder, https_port, http_port, ports, cert, key)
        nginx = start("nginx", [nginx_binary(), "-c", str(config)])
        url = f"https://127.0.0.1:{https_port}"
        _wait_for(f"{url}/health/ready", nginx, folder / "error.log", verify=cert)
        yield Stack(url, f"http://127.0.0.1:{http_port}", cert,
                    [f"http://127.0.0.1:{port}" for port in ports], folder, processes)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


@contextmanager
def running_gunicorn(folder: Path, environment: dict[str, str], config: str,
                     name: str = "web") -> Iterator[str]:
    """One gunicorn with ``deploy/<config>`` on a free port of 127.0.0.1, nothing in front of
    it (the deployment without a proxy); yields its URL, stops it afterwards. Its output is in
    ``<folder>/<name>.log``, its access log in ``<folder>/<name>.access.log``."""
    port = free_port()
    env = {**os.environ, **environment, "PYTHONPATH": str(PROJECT_ROOT),
           "FANGPIN_BIND": f"127.0.0.1:{port}",
           "WEB_ACCESS_LOG": str(folder / f"{name}.access.log")}
    with open(folder / f"{name}.log", "wb") as log:
        process = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(DEPLOY / config), "wsgi:app"],
                                   cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_for(f"http://127.0.0.1:{port}/health/live", process, folder / f"{name}.log")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
