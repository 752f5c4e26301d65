"""gradcheck's pytest plugin, registered through the ``pytest11`` entry point.

It provides the ``gradcheck`` fixture (:class:`gradcheck.testing.fixture.GradcheckFixture`), the
``@pytest.mark.gradcheck(...)`` marker for per-test settings, an option group, JUnit
properties on every test that checked gradients, a terminal summary, a session report
(``--gradcheck-report DIR``) and golden-gradient baselines (``--gradcheck-baseline PATH``).

Under pytest-xdist each worker attaches its tests' checks to their reports (a JSON-able
dict under ``report.__dict__["gradcheck"]``); the controller collects them and writes the
one session report. This module only wires pytest to the library: it computes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gradcheck.errors import GradcheckError
from gradcheck.testing.fixture import (
    BaselineSession,
    CheckSettings,
    GradcheckFixture,
    GradientAssertionError,
    drift_summary,
)
from gradcheck.testing.session import SessionResults, TestChecks

__all__ = ["gradcheck"]

REPORT_KEY = "gradcheck"
BASELINE_KEY = "gradcheck_baseline"
MARKER = (
    "gradcheck(mode=, seed=, method=, rtol=, atol=, engines=): settings of the gradcheck "
    "fixture's checks in this test"
)
FIXTURE = pytest.StashKey[GradcheckFixture]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "gradient checks (gradcheck)")
    group.addoption(
        "--gradcheck-report",
        metavar="DIR",
        help="write one report of every gradient check in the session to DIR "
        "(report.md, report.json, report.junit.xml, report.html)",
    )
    group.addoption(
        "--gradcheck-report-formats",
        metavar="LIST",
        default=None,
        help="comma-separated formats of the session report (default: all of them)",
    )
    group.addoption(
        "--gradcheck-baseline",
        metavar="PATH",
        help="compare gradients with those recorded in PATH (.npz + .json): the fixture's "
        "checks by test and label, and each fixed case recorded by `gradcheck baseline record`",
    )
    group.addoption(
        "--gradcheck-baseline-update",
        action="store_true",
        help="record the fixture's gradients into --gradcheck-baseline instead of comparing",
    )
    group.addoption("--gradcheck-seed", type=int, metavar="N", help="default seed of the checks")
    group.addoption(
        "--gradcheck-mode",
        choices=("auto", "full", "probe"),
        help="default mode of the checks (auto: every entry up to 2048 parameters, probes beyond)",
    )
    group.addoption(
        "--gradcheck-engines",
        metavar="LIST",
        help="engines of assert_case (default core,fd)",
    )
    group.addoption(
        "--gradcheck-summary",
        type=int,
        default=10,
        metavar="N",
        help="tests shown in the terminal summary table (default 10; 0 hides it)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.pluginmanager.register(GradcheckSession(config), "gradcheck-session")


@pytest.fixture(scope="session")
def gradcheck(request: pytest.FixtureRequest) -> GradcheckFixture:
    """Gradient checks that fail the test with the tensor, index and values at fault.

    One object serves the whole session (so that ``@given`` tests can use it without
    Hypothesis's function-scoped-fixture health check); the plugin points it at each test's
    own ledger and settings before the test runs."""
    return _session(request.config).fixture


class GradcheckSession:
    """The session's settings, baseline and collected results."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = SessionResults()
        self.started = time.perf_counter()
        self.results.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.results.command = " ".join(["pytest", *config.invocation_params.args])
        self.written: list[Path] = []
        self.is_worker = hasattr(config, "workerinput")
        self.report_dir = config.getoption("--gradcheck-report")
        chosen = config.getoption("--gradcheck-report-formats")
        self.formats = [f for f in (chosen or "").split(",") if f]
        self.settings = self._settings()
        self.baseline = self._baseline()
        self.recorded: dict[str, Any] = {}
        self.fixture = GradcheckFixture(TestChecks(""), self.settings, baseline=self.baseline)
        if self.report_dir:
            from gradcheck.report.session import SESSION_WRITERS, check_session_formats

            self.formats = self.formats if chosen is not None else list(SESSION_WRITERS.formats)
            _usage(check_session_formats, self.formats)

    def _settings(self) -> CheckSettings:
        options = {
            "seed": self.config.getoption("--gradcheck-seed"),
            "mode": self.config.getoption("--gradcheck-mode"),
        }
        engines = self.config.getoption("--gradcheck-engines")
        if engines:
            options["engines"] = tuple(e.strip() for e in engines.split(",") if e.strip())
        return CheckSettings().merged(options, "command line")

    def _baseline(self) -> BaselineSession | None:
        from gradcheck.baseline import Baseline
        from gradcheck.io import npz_json_pair

        path = self.config.getoption("--gradcheck-baseline")
        update = bool(self.config.getoption("--gradcheck-baseline-update"))
        if path is None:
            if update:
                raise pytest.UsageError("--gradcheck-baseline-update needs --gradcheck-baseline")
            return None
        exists = npz_json_pair(path)[1].is_file()
        baseline = _usage(Baseline.load, path) if exists or not update else Baseline()
        self.results.baseline = str(path)
        return BaselineSession(str(path), baseline, update=update)

    # Collection: one item per recorded fixed case ---------------------------------------------
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self.baseline is None or self.baseline.update:
            return
        for entry in self.baseline.baseline.entries.values():
            if entry.source.get("kind") == "case":
                items.append(BaselineItem.from_parent(session, name=entry.key, key=entry.key))

    # Per test ------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if "gradcheck" not in getattr(item, "fixturenames", ()):
            return
        settings = self.settings
        marker = item.get_closest_marker("gradcheck")
        if marker is not None:
            if marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.gradcheck takes keywords only, "
                    f"got {marker.args!r}"
                )
            where = f"@pytest.mark.gradcheck on {item.nodeid}"
            settings = _usage(settings.merged, marker.kwargs, where)
        self.fixture.begin(TestChecks(item.nodeid), settings)
        item.stash[FIXTURE] = self.fixture

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        fixture = item.stash.get(FIXTURE, None)
        if fixture is None or report.when != "call":
            return report
        ledger = fixture.ledger
        if ledger.checks:
            ledger.outcome = _outcome(report)
            report.__dict__[REPORT_KEY] = ledger.to_dict()
            worst = ledger.shown
            # junitxml writes the properties of the teardown report, made from the item's.
            item.user_properties.extend(
                [
                    ("gradcheck_checks", ledger.checks),
                    ("gradcheck_failed", ledger.failed),
                    (
                        "gradcheck_failed_expected",
                        ledger.failed if report.outcome != "failed" else 0,
                    ),
                    ("gradcheck_worst", worst.describe() if worst else "-"),
                ]
            )
        if fixture.recorded or fixture.unrecorded:
            report.__dict__[BASELINE_KEY] = {
                "recorded": [_encode_entry(e) for e in fixture.recorded],
                "unrecorded": list(fixture.unrecorded),
            }
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return  # the controller collects what the workers send
        data = report.__dict__.get(REPORT_KEY)
        if data is not None:
            checks = TestChecks.from_dict(data)
            checks.outcome = _outcome(report)
            self.results.add(checks)
        baseline = report.__dict__.get(BASELINE_KEY)
        if baseline is not None:
            self.results.baseline_unrecorded.extend(baseline["unrecorded"])
            for encoded in baseline["recorded"]:
                self.recorded[encoded["key"]] = encoded

    # End of the session --------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            return
        self.results.seconds = time.perf_counter() - self.started
        if self.baseline is not None and self.baseline.update and self.recorded:
            self._save_baseline()
        if self.report_dir:
            from gradcheck.report.session import write_session_report

            self.written = write_session_report(self.results, self.report_dir, self.formats)

    def _save_baseline(self) -> None:
        assert self.baseline is not None
        from gradcheck.baseline.cases import recording_meta

        entries = [_decode_entry(e) for e in self.recorded.values()]
        self.baseline.baseline.update(entries)
        self.baseline.baseline.save(self.baseline.path, meta=recording_meta())
        self.results.baseline_recorded = sorted(self.recorded)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker:
            return
        from gradcheck.report.session import terminal_lines

        limit = self.config.getoption("--gradcheck-summary")
        lines = terminal_lines(self.results, limit, [str(p) for p in self.written])
        if lines:
            terminalreporter.write_sep("=", "gradcheck")
            for line in lines:
                terminalreporter.write_line(line)


class BaselineItem(pytest.Item):
    """One fixed case of the baseline: re-computed by its engine and compared."""

    def __init__(self, *, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def runtest(self) -> None:
        from gradcheck.baseline.cases import check_entry

        session = _session(self.config)
        assert session.baseline is not None
        fixture = GradcheckFixture(TestChecks(self.nodeid), session.settings)
        self.stash[FIXTURE] = fixture
        entry = session.baseline.baseline.entries[self.key]
        drift = check_entry(entry)
        fixture.ledger.add(drift_summary(self.key, drift))
        if drift.verdict == "fail":
            raise GradientAssertionError(f"gradcheck: {drift.describe()}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GradientAssertionError | GradcheckError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        session = _session(self.config)
        path = session.baseline.path if session.baseline else "baseline"
        return Path(path), None, f"baseline {self.key}"


def _outcome(report: pytest.TestReport) -> str:
    """passed, failed, skipped, or xfailed: a test marked xfail that failed as expected."""
    return (
        "xfailed" if hasattr(report, "wasxfail") and report.outcome == "skipped" else report.outcome
    )


def _session(config: pytest.Config) -> GradcheckSession:
    session = config.pluginmanager.get_plugin("gradcheck-session")
    assert isinstance(session, GradcheckSession)
    return session


def _usage(function: Any, *args: Any) -> Any:
    """Call ``function``; a GradcheckError becomes a usage error (exit 4, one clear line)."""
    try:
        return function(*args)
    except GradcheckError as error:
        raise pytest.UsageError(f"gradcheck: {error}") from error


def _encode_entry(entry: Any) -> dict[str, Any]:
    import base64

    import numpy as np

    return {
        "key": entry.key,
        "source": dict(entry.source),
        "loss": entry.loss,
        "inputs": entry.inputs,
        "grads": {
            name: {
                "dtype": np.asarray(g).dtype.str,
                "shape": list(np.shape(g)),
                "data": base64.b64encode(np.ascontiguousarray(g).tobytes()).decode("ascii"),
            }
            for name, g in entry.grads.items()
        },
    }


def _decode_entry(data: dict[str, Any]) -> Any:
    import base64

    import numpy as np

    from gradcheck.baseline import BaselineEntry

    grads = {
        name: np.frombuffer(base64.b64decode(g["data"]), dtype=np.dtype(g["dtype"]))
        .reshape(g["shape"])
        .copy()
        for name, g in data["grads"].items()
    }
    return BaselineEntry(data["key"], data["source"], data["loss"], grads, data["inputs"])
