"""The same submission path with the media in a real S3-compatible server (moto, over HTTP)."""

from __future__ import annotations

import hashlib

import pytest

from server import create_app
from tests.support.collect import CollectClient, household_instance, jpeg_bytes, png_bytes
from tests.support.s3server import CREDENTIALS, REGION, s3_client


@pytest.fixture
def app_config(database, s3_endpoint, tmp_path):
    client = s3_client(s3_endpoint)
    bucket = f"fangpin-{tmp_path.name.lower().replace('_', '-')}"[:60]
    client.create_bucket(Bucket=bucket)
    return {
        "DATABASE_URL": database.url,
        "MEDIA_STORE": f"s3://{bucket}/media",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "PUBLIC_URL": "http://phones.example",
        "MAX_SUBMISSION_BYTES": 2 * 1024 * 1024,
    }


def test_submission_media_land_in_s3_by_sha256(live_server, seeded, app_config, s3_endpoint):
    """Issue 3: MEDIA_STORE=s3://bucket/prefix stores attachments in the S3 server."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    photo, signature = jpeg_bytes(), png_bytes()
    xml = household_instance(seeded.form_versions["household"], "uuid:s3-1")

    response = client.submit(xml, {"house.jpg": photo, "sig.png": signature})

    assert response.status_code == 201, response.text
    bucket = app_config["MEDIA_STORE"].removeprefix("s3://").split("/")[0]
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    keys = {item["Key"].rsplit("/", 1)[-1] for item in listed}
    assert {hashlib.sha256(photo).hexdigest(), hashlib.sha256(signature).hexdigest()} <= keys
    assert all(item["Key"].startswith("media/") for item in listed)


def test_the_app_reads_back_what_it_stored_in_s3(app_config, s3_endpoint):
    app = create_app(app_config)
    store = app.extensions["fangpin.media"]
    import io

    stored = store.put(io.BytesIO(b"raw submission xml"))

    with store.open(stored.key) as stream:
        assert stream.read() == b"raw submission xml"
