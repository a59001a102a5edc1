"""What ODK Collect does over HTTP, as a small client, plus filled instances to send."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from lxml import etree
from PIL import Image

from tests.support.households import HEAD_ID, SPOUSE_ID
from tests.support.seed import VILLAGE

LIST_NS = {"x": "http://openrosa.org/xforms/xformsList"}
MANIFEST_NS = {"m": "http://openrosa.org/xforms/xformsManifest"}
RESPONSE_NS = {"r": "http://openrosa.org/http/response"}
# A bound on every test request, against a server that hangs: generous, because the suite runs
# in parallel (pytest-xdist) on machines that may be busier still, and a slow answer is no
# failure (the 20 000-row warning list takes ~10 s on an idle 2-core machine).
HTTP_TIMEOUT = 120


def collect_date_header(moment: datetime) -> str:
    """Collect's Date header: 12-hour clock without AM/PM ("E, dd MMM yyyy hh:mm:ss zz")."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %I:%M:%S GMT")


@dataclass
class CollectClient:
    base_url: str
    token: str | None = None
    auth: tuple[str, str] | None = None
    device_id: str = "collect:Fq0cuo7xJnHgAPtX"

    def __post_init__(self):
        self.http = requests.Session()
        self.http.headers.update({
            "X-OpenRosa-Version": "1.0",
            "Date": collect_date_header(datetime.now(UTC)),
            "User-Agent": "org.odk.collect.android/v2024.3.0 okhttp/4.12.0",
        })
        if self.auth:
            self.http.auth = self.auth

    def url(self, path: str) -> str:
        prefix = f"/key/{self.token}" if self.token is not None else ""
        return f"{self.base_url}{prefix}{path}"

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, params={"deviceID": self.device_id}, timeout=HTTP_TIMEOUT)

    def form_list(self) -> requests.Response:
        return self.get(self.url("/formList"))

    def head_submission(self) -> requests.Response:
        return self.http.head(self.url("/submission"), timeout=HTTP_TIMEOUT)

    def submit(self, xml: bytes | None, files: dict[str, bytes] | None = None,
               incomplete: bool = False, **kwargs) -> requests.Response:
        parts: list[tuple[str, tuple]] = []
        if xml is not None:
            parts.append(("xml_submission_file", ("submission.xml", xml, "text/xml")))
        for name, content in (files or {}).items():
            parts.append((name, (name, content, _guess_type(name))))
        data = {"*isIncomplete*": "yes"} if incomplete else None
        return self.http.post(self.url("/submission"), files=parts, data=data,
                              params={"deviceID": self.device_id},
                              timeout=kwargs.pop("timeout", HTTP_TIMEOUT), **kwargs)


def _guess_type(name: str) -> str:
    return {"jpg": "image/jpeg", "png": "image/png"}.get(name.rsplit(".", 1)[-1],
                                                          "application/octet-stream")


def parse_form_list(response: requests.Response) -> list[dict[str, str]]:
    root = etree.fromstring(response.content)
    return [
        {etree.QName(child).localname: child.text for child in xform}
        for xform in root.findall("x:xform", LIST_NS)
    ]


def parse_manifest(response: requests.Response) -> list[dict[str, str]]:
    root = etree.fromstring(response.content)
    files = []
    for media in root.findall("m:mediaFile", MANIFEST_NS):
        entry = {etree.QName(child).localname: child.text for child in media}
        entry["type"] = media.get("type", "")
        files.append(entry)
    return files


def response_message(response: requests.Response) -> str:
    return etree.fromstring(response.content).findtext("r:message", namespaces=RESPONSE_NS)


def household_instance(version: str, instance_id: str | None = None, *,
                       photo: str = "house.jpg", signature: str = "sig.png",
                       head: str = "张三", phone: str = "13812345678") -> bytes:
    """A filled ``household`` form as Collect would send it."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    return f"""<?xml version='1.0' encoding='UTF-8' ?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"
      id="household" version="{version}">
  <address>
    <addr_county>{VILLAGE[:6]}</addr_county><addr_township>{VILLAGE[:9]}</addr_township>
    <addr_village>{VILLAGE}</addr_village><addr_group>{VILLAGE}001</addr_group>
  </address>
  <phone>{phone}</phone>
  <members><a5_name>{head}</a5_name><a7_id_number>{HEAD_ID}</a7_id_number><a8_relation>01</a8_relation></members>
  <members><a5_name>李四</a5_name><a7_id_number>{SPOUSE_ID}</a7_id_number><a8_relation>02</a8_relation></members>
  <head_name>{head}</head_name><village_name>洪罗庙社区</village_name>
  <photo_house>{photo}</photo_house>
  <sig_applicant>{signature}</sig_applicant>
  <meta><instanceID>{instance_id}</instanceID><instanceName>{head}</instanceName></meta>
</data>""".encode()


def jpeg_bytes(size: tuple[int, int] = (64, 48), color=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 255).save(out, "PNG")
    return out.getvalue()


def form_instance(form_id: str, version: str, household: dict[str, str],
                  members: list[dict[str, str]] = (), instance_id: str | None = None,
                  entity_id: str | None = None) -> bytes:
    """Any form's filled instance from answers by field name (members in the repeat)."""
    from xml.sax.saxutils import escape

    def leaves(values: dict[str, str]) -> str:
        return "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in values.items())

    roster = "".join(f"<members>{leaves(member)}</members>" for member in members)
    entity = (f'<entity dataset="households" id="{entity_id}" create="1">'
              f"<label>x</label></entity>" if entity_id else "")
    return (f'<?xml version="1.0" encoding="UTF-8"?><data xmlns:jr="http://openrosa.org/javarosa"'
            f' id="{form_id}" version="{version}">{leaves(household)}{roster}'
            f"<meta><instanceID>{instance_id or f'uuid:{uuid.uuid4()}'}</instanceID>{entity}"
            f"</meta></data>").encode()
