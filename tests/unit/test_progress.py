"""The progress bar (``cli/progress.py``): the work done, and for work run as tasks the
tasks done, running and failed; lines printed above it; nothing at all off a terminal."""

from __future__ import annotations

import io

from gradcheck.cli.progress import Progress
from gradcheck.runs.executors import Tasks


def test_a_sweep_bar_shows_examples_then_its_tasks() -> None:
    stream = io.StringIO()
    bar = Progress(90, label="gradcheck check", stream=stream, enabled=True, width=10)
    bar.update(45)
    bar.on_tasks(Tasks(total=10, done=4, running=2, failed=0))
    assert bar.line().startswith(
        "gradcheck check [#####-----] 45/90; tasks 4/10 done, 2 running, 0 failed ("
    )
    assert stream.getvalue().count("\r") == 2


def test_a_grading_bar_counts_the_tasks_themselves() -> None:
    stream = io.StringIO()
    bar = Progress(0, label="gradcheck grade", stream=stream, enabled=True, width=4, of_tasks=True)
    bar.on_tasks(Tasks(total=8, done=2, running=2, failed=1))
    assert bar.line().startswith("gradcheck grade [#---] 2/8 done, 2 running, 1 failed (")
    bar.say("pass    alice")
    bar.close()
    text = stream.getvalue()
    assert "\r\033[Kpass    alice\n" in text and text.endswith("\n")


def test_off_a_terminal_only_the_lines_are_printed() -> None:
    stream = io.StringIO()  # not a tty
    bar = Progress(3, stream=stream, of_tasks=True)
    bar.on_tasks(Tasks(total=3, done=1, running=1, failed=0))
    bar.say("fail    bob")
    bar.close()
    assert stream.getvalue() == "fail    bob\n"
