"""A real S3-compatible HTTP server (moto) on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@contextmanager
def running_s3_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run moto's S3 server on a free port (or ``port``) in a thread; yield its endpoint URL.
    Its buckets are moto's, of this process: a server started again on the same port (an
    outage's end) finds them as they were."""
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        # port=0 lets the OS pick; the bound port is read back from the server socket.
        _, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_options(endpoint_url: str) -> dict[str, Any]:
    """boto3 client options for the test server: dummy credentials, fixed region."""
    return {"endpoint_url": endpoint_url, "region_name": REGION, **CREDENTIALS}


def s3_client(endpoint_url: str) -> Any:
    """A boto3 S3 client talking to the test server."""
    return boto3.client("s3", **s3_options(endpoint_url))
