"""The examples run as their users would run them.

``examples/numpy_layers`` is a third-party-style layer library tested with the plugin: its
suite must pass, a bug planted in one layer must fail exactly the tests that use that layer
with a message naming the tensor and the index, its GitHub Actions workflow's commands must
work and fill the job summary, and a fresh virtual environment must be able to install
gradcheck and run it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "numpy_layers"
LAYERS = Path("tinylayers") / "layers.py"
GRADIENT_TESTS = {
    "test_affine",
    "test_relu",
    "test_leaky_relu",
    "test_sigmoid",
    "test_tanh",
    "test_batchnorm",
    "test_layernorm",
    "test_softmax_cross_entropy",
    "test_mse_loss",
    "test_two_layer_network",
}


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "numpy_layers"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("reports", "__pycache__"))
    return target


def run_pytest(
    project: Path, *args: str, python: str = sys.executable
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the example's suite; return the process and each test's outcome (from JUnit)."""
    junit = project / "junit.xml"
    process = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[str(case.get("name"))] = "failed" if failed else "passed"
    return process, outcomes


def test_the_example_suite_passes_and_writes_the_session_report(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    process, outcomes = run_pytest(project, "--gradcheck-report", "reports/gradcheck")
    assert process.returncode == 0, process.stdout + process.stderr
    assert set(outcomes) >= GRADIENT_TESTS and set(outcomes.values()) == {"passed"}
    data = json.loads((project / "reports/gradcheck/report.json").read_text())
    assert data["verdict"] == "pass"
    assert {t["test"].rpartition("::")[2] for t in data["tests"]} == GRADIENT_TESTS
    assert "10 gradient checks in 10 tests: 10 passed, 0 failed" in process.stdout


def plant(source: str, function: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` inside ``function`` only (it must occur there once)."""
    start = source.index(f"def {function}(")
    end = source.find("\ndef ", start + 1)
    end = len(source) if end < 0 else end
    body = source[start:end]
    assert body.count(old) == 1, f"{old!r} is not in {function} exactly once"
    return source[:start] + body.replace(old, new) + source[end:]


BUGS = [
    pytest.param(
        "batchnorm_backward",
        "    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)",
        "    dgamma = (dout * xhat).sum(axis=0)\n"
        "    dgamma[2] *= 1.01\n"
        "    return dx, dgamma, dout.sum(axis=0)",
        {"test_batchnorm"},
        r"gamma\[2\]",
        id="batchnorm-dgamma-entry",
    ),
    pytest.param(
        "sigmoid_backward",
        "    return dout * out * (1 - out)",
        "    return dout * (1 - out * out)",
        {"test_sigmoid"},
        r"x\[\d+, \d+\]",
        id="sigmoid-uses-tanh-derivative",
    ),
    pytest.param(
        "layernorm_backward",
        "    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)",
        "    return dx, (dout * xhat).sum(axis=0), dout.mean(axis=0)",
        {"test_layernorm"},
        r"beta\[\d+\]",
        id="layernorm-dbeta-mean-not-sum",
    ),
    pytest.param(
        "affine_backward",
        "    return dx, dw, db",
        "    dw[1, 2] += 1e-4\n    return dx, dw, db",
        {"test_affine", "test_two_layer_network"},
        r"w\[1, 2\]",
        id="affine-dw-entry",
    ),
]


@pytest.mark.parametrize(("function", "old", "new", "failing", "where"), BUGS)
def test_a_planted_bug_fails_exactly_the_tests_that_use_the_layer(
    tmp_path: Path, function: str, old: str, new: str, failing: set[str], where: str
) -> None:
    project = copy_example(tmp_path)
    layers = project / LAYERS
    layers.write_text(plant(layers.read_text(), function, old, new))
    process, outcomes = run_pytest(project, "--gradcheck-report", "reports/gradcheck")
    assert process.returncode == 1, process.stdout + process.stderr
    assert {name for name, outcome in outcomes.items() if outcome == "failed"} == failing
    tensor = where.split("\\[")[0]
    assert f"GradientAssertionError: gradcheck: wrong gradient for {tensor}" in process.stdout
    assert re.search(where + r": backward = \S+, complex step = \S+ \(\|diff\|", process.stdout)
    markdown = (project / "reports/gradcheck/report.md").read_text()
    assert markdown.startswith("# gradcheck session report: ❌ fail")
    assert all(f"::{name}`" in markdown for name in failing)


def workflow_steps() -> list[dict[str, object]]:
    workflow = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "gradients.yml").read_text())
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def test_the_workflow_commands_run_and_fill_the_job_summary(tmp_path: Path) -> None:
    steps = workflow_steps()
    names = [step.get("name") for step in steps]
    assert {"Install", "Test gradients", "Job summary"} <= set(names)
    assert any(str(step.get("uses", "")).startswith("actions/upload-artifact") for step in steps)
    project = copy_example(tmp_path)
    summary = tmp_path / "step-summary.md"
    env = {
        **os.environ,
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    # Everything after the install step, in order, as the runner would run it; the install
    # itself is what `make install` already did for this interpreter.
    for step in steps[names.index("Install") + 1 :]:
        if "run" not in step:
            continue
        process = subprocess.run(
            ["bash", "-e", "-c", str(step["run"])],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert process.returncode == 0, f"step {step.get('name')}: {process.stderr}"
    text = summary.read_text()
    assert text.startswith("# gradcheck session report: ✅ pass")
    assert "tests/test_layers.py::test_batchnorm" in text


def test_a_fresh_virtual_environment_installs_gradcheck_and_runs_the_example(
    tmp_path: Path,
) -> None:
    """The README's install, from scratch: no editable install, nothing but pip and the
    package index (CI has it). The plugin must come from the entry point alone."""
    source = tmp_path / "gradcheck-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "gradcheck", "reference_impls"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    environment = tmp_path / "fresh"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    project = copy_example(tmp_path)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    constraints = ["-c", str(ROOT / "constraints.txt")]
    for target in (str(source), f"{project}[test]"):
        install = subprocess.run(
            [*pip, *constraints, target], capture_output=True, text=True, timeout=600
        )
        assert install.returncode == 0, install.stdout + install.stderr
    process, outcomes = run_pytest(project, "--gradcheck-report", "out", python=python)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "plugins: gradcheck-" in process.stdout
    assert set(outcomes) >= GRADIENT_TESTS
    assert (project / "out" / "report.md").is_file()
