"""Long commands show their progress (issue 15.12): run as the real command, each ends with a
summary line of what it did, what failed and the time it took (tests/unit/test_progress.py
checks the periodic lines and the terminal's bar; tests/integration/test_backup.py the summaries
of backup, restore and verify-media)."""

from __future__ import annotations

import re

import pytest

from server.areas.services import BUNDLED_AREAS
from server.cli import main
from tests.support.collect import CollectClient, jpeg_bytes, png_bytes
from tests.sync.test_submission_registry import household_xml

SUMMARY = re.compile(r"(?P<label>\S+)：完成 (?P<done>\d+)，失败 (?P<failed>\d+)，用时 [\d.]+ 秒")


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "TAKE_IN": "queue"}  # submissions wait for apply-pending


def summary(output: str) -> tuple[str, int, int]:
    [found] = SUMMARY.findall(output)
    return found[0], int(found[1]), int(found[2])


def test_apply_pending_counts_what_it_took_in_and_what_failed(app, live_server, seeded):
    from tests.integration.test_backup import family

    client = CollectClient(live_server, seeded.tokens["helper"])
    for n in range(3):
        response = client.submit(household_xml(seeded, family(n), photo_house="house.jpg",
                                               sig_applicant="sig.png"),
                                 {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()})
        assert response.status_code == 201
    result = app.test_cli_runner().invoke(main, ["apply-pending"])
    assert result.exit_code == 0, result.output
    assert summary(result.output) == ("登记提交", 3, 0)
    assert "处理 3 份提交：applied 3" in result.output

    again = app.test_cli_runner().invoke(main, ["apply-pending"])
    assert summary(again.output) == ("登记提交", 0, 0)

    rechecked = app.test_cli_runner().invoke(main, ["recheck-registry"])
    assert rechecked.exit_code == 0, rechecked.output
    people = int(re.search(r"人员 (\d+)", rechecked.output).group(1))
    assert people >= 6 and summary(rechecked.output) == ("排查疑似重复", people, 0)


def test_import_areas_ends_with_its_summary(app):
    runner = app.test_cli_runner()

    imported = runner.invoke(main, ["import-areas", str(BUNDLED_AREAS), "--under", "430421"])
    assert imported.exit_code == 0, imported.output
    count = int(re.search(r"已导入 (\d+) 个区划", imported.output).group(1))
    assert count > 500 and summary(imported.output) == ("导入区划", count, 0)
