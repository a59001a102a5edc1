"""Fill XForms in a real XForm engine: ODK Web Forms' ``@getodk/xforms-engine`` under Node.

``tests/engine/fill.mjs`` loads a form with its attachments, sets answers by instance path
(adding repeat instances as a user would), and reports every node's value, relevance and
validity. ``fill_many`` runs a batch in one Node process (importing the engine costs ~1 s).
The harness's own README is the comment block at the top of fill.mjs.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from server.config import PROJECT_ROOT

HARNESS = PROJECT_ROOT / "tests" / "engine"


class EngineUnavailable(RuntimeError):
    pass


@dataclass
class Job:
    """One fill: a form, its attachments (file name → bytes) and answers [(path, value)]."""

    id: str
    form: bytes
    attachments: dict[str, bytes] = field(default_factory=dict)
    answers: list[tuple[str, object]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # files that upload answers name
    submission: bool = False  # also produce what the engine would POST


@dataclass
class Outcome:
    id: str
    exit_code: int  # 0 filled, 1 did not load, 2 an answer could not be given, 3 invalid
    report: dict
    # With Job.submission: file name → bytes, "xml_submission_file" being the instance.
    submission: dict[str, bytes] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.exit_code == 0 and bool(self.report.get("valid"))

    def violations(self) -> dict[str, str]:
        """Path → "constraint" or "required" for every violation."""
        return {v["path"]: v["condition"] for v in self.report.get("violations", [])}

    def node(self, path: str) -> dict:
        for node in self.report.get("nodes", []):
            if node["path"] == path:
                return node
        raise KeyError(path)

    def value(self, path: str) -> str:
        return self.node(path)["value"]

    def options(self, path: str) -> list[str]:
        return [option["value"] for option in self.node(path).get("options", [])]


# One npm install at a time on this machine: parallel test workers (pytest-xdist) each call
# ensure_installed, and `npm ci` first deletes node_modules, so a second install would pull the
# engine from under a first one. A lock file in the temporary folder also covers worktrees that
# share one node_modules.
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "fangpin-engine-npm.lock"
_installed = False


def ensure_installed() -> None:
    global _installed
    if _installed:
        return
    node = shutil.which("node")
    if node is None:
        raise EngineUnavailable("Node.js is needed for the XForm engine tests (apt: nodejs npm)")
    with open(_INSTALL_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (HARNESS / "node_modules" / "@getodk" / "xforms-engine").exists():
            subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=HARNESS,
                           check=True, capture_output=True, timeout=600)
            (HARNESS / "node_modules" / ".installed").touch()
    _installed = True


def fill_many(jobs: list[Job]) -> dict[str, Outcome]:
    ensure_installed()
    with tempfile.TemporaryDirectory(prefix="fangpin-engine-") as tmp:
        root = Path(tmp)
        batch = []
        for job in jobs:
            folder = root / job.id
            (folder / "media").mkdir(parents=True)
            (folder / "form.xml").write_bytes(job.form)
            for name, content in {**job.attachments, **job.media}.items():
                (folder / "media" / name).write_bytes(content)
            (folder / "answers.json").write_text(
                json.dumps([[path, value] for path, value in job.answers], ensure_ascii=False),
                encoding="utf-8")
            item = {"id": job.id, "form": str(folder / "form.xml"),
                    "answers": str(folder / "answers.json"), "media": [str(folder / "media")]}
            if job.submission:
                item["submission"] = str(folder / "submission")
            batch.append(item)
        (root / "jobs.json").write_text(json.dumps(batch), encoding="utf-8")
        result = subprocess.run(["node", str(HARNESS / "fill.mjs"), "--batch",
                                 str(root / "jobs.json")], capture_output=True, text=True,
                                timeout=600)
        try:
            outcomes = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise RuntimeError(f"engine harness failed: {result.stderr[-2000:]}") from exc
        return {o["id"]: Outcome(o["id"], o["exit_code"], o["report"],
                                 _files(root / o["id"] / "submission")) for o in outcomes}


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def fill(job: Job) -> Outcome:
    return fill_many([job])[job.id]
