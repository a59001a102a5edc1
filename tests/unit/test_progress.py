"""The progress of a long command (issue 15.12): a line every few seconds in a log, a bar on a
terminal, and always a summary with what was done, what failed and the time it took."""

from __future__ import annotations

import io

from server.progress import Progress, Silent, tracker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_every_five_seconds_and_a_summary_at_the_end():
    clock, stream = FakeClock(), io.StringIO()
    with Progress(400, "登记提交", stream, clock=clock) as progress:
        for n in range(400):
            clock.now += 0.125  # 8 items a second: 50 s in all
            progress.advance(1 if n % 100 else 0, 0 if n % 100 else 1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 + 1  # one every 5 s of 50, then the summary
    assert lines[0] == "登记提交：已处理 40/400（10%），失败 1，已用 5 秒"
    assert lines[9] == "登记提交：已处理 400/400（100%），失败 4，已用 50 秒"
    assert lines[-1] == "登记提交：完成 396，失败 4，用时 50.0 秒"
    assert "\r" not in stream.getvalue()


def test_a_quick_command_prints_only_its_summary_and_a_failure_still_ends_with_one():
    clock, stream = FakeClock(), io.StringIO()
    with Progress(3, "导入区划", stream, clock=clock) as progress:
        progress.advance(3)
    assert stream.getvalue() == "导入区划：完成 3，失败 0，用时 0.0 秒\n"

    stream = io.StringIO()
    try:
        with Progress(None, "备份媒体文件", stream, clock=clock) as progress:
            progress.start(10)
            progress.advance(2)
            raise RuntimeError("the store went away")
    except RuntimeError:
        pass
    assert stream.getvalue() == "备份媒体文件：完成 2，失败 0，用时 0.0 秒\n"


def test_a_terminal_gets_one_bar_redrawn_in_place_then_the_summary():
    clock, stream = FakeClock(), io.StringIO()
    with Progress(40, "检查媒体文件", stream, clock=clock, tty=True) as progress:
        for _ in range(40):
            clock.now += 0.05
            progress.advance()
    shown = stream.getvalue()
    assert shown.count("\n") == 2  # the finished bar's line, the summary
    assert "\r检查媒体文件 [##############################] 40/40 100% 2s" in shown
    assert 10 <= shown.count("\r") <= 25  # redrawn at most ten times a second
    assert shown.endswith("检查媒体文件：完成 40，失败 0，用时 2.0 秒\n")


def test_a_stream_that_is_a_terminal_is_told_apart_from_a_log():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Progress(stream=Terminal()).tty and not Progress(stream=io.StringIO()).tty


def test_a_service_called_without_progress_reports_to_nothing():
    quiet = tracker(None)
    assert isinstance(quiet, Silent)
    quiet.start(3)
    quiet.advance(2, 1)
