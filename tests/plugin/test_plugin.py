"""The pytest plugin, driven through pytester: each test writes a small test module, runs a
pytest session on it and asserts on the outcomes, the messages and the files written."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

LAYERS = """
import numpy as np
import pytest

def affine_forward(x, w, b):
    return x @ w + b, (x, w)

def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)

def broken_backward(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    dw[2, 1] += 0.5
    return dx, dw, db

rng = np.random.default_rng(0)
INPUTS = {"x": rng.normal(size=(4, 5)), "w": rng.normal(size=(5, 3)), "b": rng.normal(size=3)}
"""

PASSING_AND_FAILING = (
    LAYERS
    + """
def test_good(gradcheck):
    gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)

def test_bad(gradcheck):
    gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)

def test_cubic(gradcheck):
    params = {"a": np.array([1.0, -2.0, 0.5])}
    gradcheck.assert_gradients(
        lambda p: float(np.sum(p["a"] ** 3)), lambda p: {"a": 3 * p["a"] ** 2}, params
    )

def test_no_checks():
    assert INPUTS["x"].shape == (4, 5)
"""
)


# A suite's ordinary test, which runs no gradient check.
PLAIN = "def test_sorted():\n    assert sorted([3, 1, 2]) == [1, 2, 3]\n"


def test_a_wrong_entry_fails_its_test_naming_tensor_index_and_both_values(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_layers=PASSING_AND_FAILING)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GradientAssertionError: gradcheck: wrong gradient for w in 'affine_forward'*",
            "*w[[]2, 1[]]: backward = *, complex step = * (|diff| 0.5,*",
            "FAILED test_layers.py::test_bad - *",
        ]
    )
    found = re.search(r"w\[2, 1\]: backward = (\S+), complex step = (\S+) ", result.stdout.str())
    assert found is not None
    assert float(found[1]) - float(found[2]) == pytest.approx(0.5)  # the planted error
    # The traceback stops at the user's call: the plugin's own frames are hidden.
    assert "gradcheck/testing/fixture.py" not in result.stdout.str()


def test_terminal_summary_table_ranks_failures_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_layers=PASSING_AND_FAILING)
    result = pytester.runpytest()
    lines = result.stdout.lines
    start = lines.index(next(line for line in lines if "= gradcheck =" in line))
    summary = lines[start + 1 : start + 7]
    assert summary[0].startswith("3 gradient checks in 3 tests: 2 passed, 1 failed")
    assert summary[1].split()[:3] == ["test", "outcome", "checks"]
    assert summary[3].split()[:5] == ["test_layers.py::test_bad", "failed", "1", "0", "1"]
    assert "w[2, 1]" in summary[3]
    assert {summary[4].split()[0], summary[5].split()[0]} == {
        "test_layers.py::test_good",
        "test_layers.py::test_cubic",
    }
    hidden = pytester.runpytest("--gradcheck-summary", "0")
    assert "3 gradient checks in 3 tests" in hidden.stdout.str()
    assert "outcome    checks" not in hidden.stdout.str()


def test_session_report_in_every_format(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_layers=PASSING_AND_FAILING)
    pytester.runpytest("--gradcheck-report", "out")
    out = pytester.path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "report.html",
        "report.json",
        "report.junit.xml",
        "report.md",
    ]
    data = json.loads((out / "report.json").read_text())
    assert data["schema"] == "gradcheck.session/1"
    assert data["verdict"] == "fail"
    assert data["totals"] == {
        "tests": 3,
        "checks": 3,
        "passed": 2,
        "failed": 1,
        "inconclusive": 0,
        "failing_tests": 1,
    }
    bad = next(t for t in data["tests"] if t["test"].endswith("test_bad"))
    failure = bad["failures"][-1]["tensors"][0]
    assert (failure["tensor"], failure["index"]) == ("w", [2, 1])
    assert failure["value_a"] - failure["value_b"] == pytest.approx(0.5)

    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# gradcheck session report: ❌ fail")
    assert "### `test_layers.py::test_bad`" in markdown
    assert "w[2, 1]: backward = " in markdown

    suite = ET.fromstring((out / "report.junit.xml").read_text())
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    failures = suite.findall("testcase/failure")
    assert len(failures) == 1 and failures[0].get("message", "").startswith("w[2, 1]:")

    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "test_layers.py::test_bad" in page
    assert 'class="failed"' in page


def test_the_report_is_written_even_when_no_check_ran(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    pytester.runpytest("--gradcheck-report", "out", "--gradcheck-report-formats", "md,json")
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert data["verdict"] == "pass" and data["totals"]["checks"] == 0
    assert not (pytester.path / "out" / "report.html").exists()


def test_xdist_workers_send_their_checks_to_one_report(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    body = LAYERS + "".join(
        f"\ndef test_layer_{i}(gradcheck):\n"
        f"    gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)\n"
        for i in range(6)
    )
    body += "\ndef test_broken(gradcheck):\n"
    body += "    gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)\n"
    pytester.makepyfile(test_many=body)
    result = pytester.runpytest_subprocess("-n", "2", "--gradcheck-report", "out")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*7 gradient checks in 7 tests: 6 passed, 1 failed*"])
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert data["totals"]["tests"] == 7 and data["totals"]["failed"] == 1
    assert sorted(t["test"].split("::")[1] for t in data["tests"]) == sorted(
        [f"test_layer_{i}" for i in range(6)] + ["test_broken"]
    )


EXPECTED_FAILURES = (
    LAYERS
    + """
import pytest

def test_caught(gradcheck):
    with pytest.raises(AssertionError):
        gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)

@pytest.mark.xfail(reason="a planted bug", strict=True)
def test_known_broken(gradcheck):
    gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)

def test_good(gradcheck):
    gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)
"""
)


@pytest.mark.parametrize("unexpected", [False, True])
def test_the_summary_says_which_failed_checks_their_tests_expected(
    pytester: pytest.Pytester, unexpected: bool
) -> None:
    """A suite that plants bugs on purpose has failed checks in a green run: the headline
    says they were expected (pytest.raises, xfail), and tells them from a real failure."""
    body = EXPECTED_FAILURES + (
        "\ndef test_bad(gradcheck):\n"
        "    gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)\n"
        if unexpected
        else ""
    )
    pytester.makepyfile(test_expected=body)
    result = pytester.runpytest("--junitxml", "junit.xml")
    if unexpected:
        result.assert_outcomes(passed=2, failed=1, xfailed=1)
        result.stdout.fnmatch_lines(
            ["*4 gradient checks in 4 tests: 1 passed, 3 failed (1 unexpected, 2 expected by "
             "their tests), 0 inconclusive; 1 test failed on a gradient*"]
        )  # fmt: skip
    else:
        result.assert_outcomes(passed=2, xfailed=1)
        result.stdout.fnmatch_lines(
            ["*3 gradient checks in 3 tests: 1 passed, 2 failed (all 2 expected by their tests: "
             "pytest.raises, xfail, an asserted verdict), 0 inconclusive; 0 tests failed on a "
             "gradient*"]
        )  # fmt: skip
    suite = ET.parse(pytester.path / "junit.xml").getroot()
    expected = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}.get(
            "gradcheck_failed_expected"
        )
        for case in suite.iter("testcase")
    }
    assert expected["test_caught"] == "1" and expected["test_good"] == "0"
    if unexpected:
        assert expected["test_bad"] == "0"


def test_junitxml_gets_the_checks_as_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_layers=PASSING_AND_FAILING)
    pytester.runpytest("--junitxml", "junit.xml")
    suite = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    properties = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    assert properties["test_bad"]["gradcheck_checks"] == "1"
    assert properties["test_bad"]["gradcheck_failed"] == "1"
    assert properties["test_bad"]["gradcheck_worst"].startswith("w[2, 1]: backward = ")
    assert properties["test_no_checks"] == {}


def test_marker_and_command_line_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_settings=LAYERS
        + """
def test_default(gradcheck):
    result = gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)
    assert (result.mode, result.seed) == ("probe", 7)  # from the command line

@pytest.mark.gradcheck(mode="full", seed=3)
def test_marked(gradcheck):
    result = gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)
    assert (result.mode, result.seed) == ("full", 3)

@pytest.mark.gradcheck(mode="full")
def test_keyword_wins(gradcheck):
    result = gradcheck.assert_layer(affine_forward, affine_backward, INPUTS, method="central")
    assert (result.mode, result.method) == ("full", "central")

@pytest.mark.gradcheck(rtol=0.5)
def test_loose_tolerance_lets_the_bug_through(gradcheck):
    gradcheck.assert_layer(affine_forward, broken_backward, INPUTS)
"""
    )
    result = pytester.runpytest("--gradcheck-mode", "probe", "--gradcheck-seed", "7")
    result.assert_outcomes(passed=4)


def test_a_bad_marker_is_an_error_that_names_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marker=LAYERS
        + """
@pytest.mark.gradcheck(tolerance=1e-3)
def test_typo(gradcheck):
    gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)

@pytest.mark.gradcheck("full")
def test_positional(gradcheck):
    gradcheck.assert_layer(affine_forward, affine_backward, INPUTS)
"""
    )
    result = pytester.runpytest()
    assert result.ret != 0
    output = result.stdout.str() + result.stderr.str()
    assert "unknown gradcheck setting 'tolerance'" in output
    assert "test_typo" in output


def test_hypothesis_tests_use_the_fixture_without_a_health_check(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_property="""
import numpy as np
from hypothesis import given, settings, strategies as st

@settings(max_examples=5, database=None, deadline=None)
@given(st.floats(-2, 2))
def test_scaled_square(gradcheck, c):
    params = {"a": np.array([1.0, 2.0])}
    gradcheck.assert_gradients(
        lambda p: float(c * np.sum(p["a"] ** 2)), lambda p: {"a": 2 * c * p["a"]}, params
    )
"""
    )
    result = pytester.runpytest("--gradcheck-report", "out")
    result.assert_outcomes(passed=1)
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert data["tests"][0]["checks"] >= 5


def test_assert_case_runs_engines_on_a_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_case="""
import numpy as np
from gradcheck.baseline.cases import fixed_case
from gradcheck.nn.spec import NetworkSpec

def test_core_and_fd_agree(gradcheck):
    case = fixed_case(NetworkSpec.parse("3-4-2 hidden=tanh loss=mse"), seed=0)
    result = gradcheck.assert_case(case, ["core", "fd", "cs"])
    assert {r.tensor for r in result.records} == {"loss", "W1", "b1", "W2", "b2"}
    assert {r.pair for r in result.records} == {"core vs fd", "core vs cs", "fd vs cs"}
"""
    )
    result = pytester.runpytest("--gradcheck-report", "out")
    result.assert_outcomes(passed=1)
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert data["tests"][0]["kinds"] == {"case": 1}


# Baselines -----------------------------------------------------------------------------------
SCALED = (
    LAYERS
    + """
SCALE = SCALE_VALUE

def scaled_forward(x, w, b):
    out, cache = affine_forward(x, w, b)
    return SCALE * out, cache

def scaled_backward(dout, cache):
    return affine_backward(SCALE * dout, cache)

def test_scaled_layer(gradcheck):
    gradcheck.assert_layer(scaled_forward, scaled_backward, INPUTS)
"""
)


def test_baseline_catches_a_change_that_finite_differences_accept(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_scaled=SCALED.replace("SCALE_VALUE", "1.0"))
    recorded = pytester.runpytest("--gradcheck-baseline", "golden", "--gradcheck-baseline-update")
    recorded.assert_outcomes(passed=1)
    assert (pytester.path / "golden.npz").is_file() and (pytester.path / "golden.json").is_file()
    index = json.loads((pytester.path / "golden.json").read_text())
    assert [e["key"] for e in index["entries"]] == [
        "test_scaled.py::test_scaled_layer::scaled_forward"
    ]

    pytester.runpytest("--gradcheck-baseline", "golden").assert_outcomes(passed=1)

    # A consistent change (loss scaled by 2): forward and backward still agree, so only the
    # baseline can see it.
    pytester.makepyfile(test_scaled=SCALED.replace("SCALE_VALUE", "2.0"))
    pytester.runpytest().assert_outcomes(passed=1)
    drifted = pytester.runpytest("--gradcheck-baseline", "golden")
    drifted.assert_outcomes(failed=1)
    drifted.stdout.fnmatch_lines(
        [
            "*gradients drifted from the baseline*",
            "*x: largest change at x[[]*recorded*now 2 × the recorded gradient*",
            "*the inputs are the recorded ones: the gradient computation changed*",
        ]
    )


def test_unrecorded_checks_are_reported_not_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_layers=PASSING_AND_FAILING)
    pytester.makepyfile(test_scaled=SCALED.replace("SCALE_VALUE", "1.0"))
    pytester.runpytest(
        "test_scaled.py", "--gradcheck-baseline", "golden", "--gradcheck-baseline-update"
    )
    result = pytester.runpytest("-k", "good or scaled", "--gradcheck-baseline", "golden")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*1 checks have no recorded gradients*"])


def test_recorded_fixed_cases_become_test_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradcheck.baseline import Baseline
    from gradcheck.baseline.cases import record_cases
    from gradcheck.nn import init
    from gradcheck.nn.spec import NetworkSpec

    specs = [NetworkSpec.parse("3-5-2 hidden=relu loss=mse"), NetworkSpec.parse("3-4-3 loss=bce")]
    baseline = Baseline()
    baseline.update(record_cases(specs, [0, 1]))
    baseline.save(pytester.path / "cases")
    pytester.makepyfile(test_plain=PLAIN)

    result = pytester.runpytest("-v", "--gradcheck-baseline", "cases")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*case:core:3-5-2 hidden=relu*seed=1*PASSED*"])

    original = init.INITIALISERS["xavier_uniform"]
    monkeypatch.setitem(
        init.INITIALISERS, "xavier_uniform", lambda rng, shape: 1.01 * original(rng, shape)
    )
    drifted = pytester.runpytest("--gradcheck-baseline", "cases")
    drifted.assert_outcomes(passed=1, failed=4)
    drifted.stdout.fnmatch_lines(["*initialisation or data changed*"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--gradcheck-baseline", "missing"], "baseline file missing.json does not exist"),
        (["--gradcheck-baseline-update"], "--gradcheck-baseline-update needs --gradcheck-baseline"),
        (
            ["--gradcheck-report", "out", "--gradcheck-report-formats", "md,pdf"],
            "unknown session report format",
        ),
    ],
    ids=["missing-baseline", "update-without-path", "unknown-format"],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, arguments: list[str], message: str
) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest(*arguments)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    from importlib.metadata import entry_points

    found = [e for e in entry_points(group="pytest11") if e.name == "gradcheck"]
    assert [e.value for e in found] == ["gradcheck.testing.plugin"]
    assert Path(found[0].load().__file__).name == "plugin.py"
