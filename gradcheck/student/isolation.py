"""Strong isolation for a submission's child process: bubblewrap (``bwrap``), used the way
Flatpak uses it.

``bwrap_command`` builds the whole argument list in one place. The child gets:

* new pid, mount, network, IPC, UTS and cgroup namespaces (``--unshare-all``; the user
  namespace too when the grader is not root, since bwrap then needs it to set anything up);
* a file system that is read-only and holds only what the child needs: ``/usr`` (and the
  ``/lib`` links), the base Python installation, NumPy alone in ``/sandbox/site`` (never the
  grader's site-packages, so no import trick can reach torch, jax, tensorflow or gradcheck),
  ``child.py`` and ``protocol.py``, and the submission, copied in from a memory file (the
  base installation's and Debian's site-packages are covered by empty read-only folders);
* a private tmpfs as ``/tmp``, its only writable place, capped in size;
* ``--die-with-parent`` and ``--new-session``: when the grader's end of bwrap is killed, the
  pid namespace's init dies and the kernel kills every process in it, daemons included;
* a real unprivileged uid with no capabilities: as root, bwrap starts the child through
  ``setpriv`` with a uid of its own per sandbox, no supplementary groups, no inheritable
  capabilities and ``no_new_privs``; as another user, the child keeps that user's uid.

``probe()`` tries a trivial sandbox once per process: a container without user namespaces,
or a machine without bwrap, gets ``Isolation(strong=False, reason=…)``, and grading falls
back to the weak isolation of ``sandbox`` (its own session, rlimits, a network guard), which
the reports name as weak.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SANDBOX_DIR", "Isolation", "bwrap_command", "probe"]

SANDBOX_DIR = "/sandbox"
TMPFS_BYTES = 256 * 1024 * 1024
_FIRST_UID = 200_000  # uids of sandboxes run by root: no user on the machine has them
_UIDS = 50_000
_counter = itertools.count()


@dataclass(frozen=True)
class Isolation:
    strong: bool
    reason: str  # why not, when weak; what it is, when strong

    def describe(self) -> str:
        return f"isolation: {'strong' if self.strong else 'WEAK'} ({self.reason})"


def _numpy_dirs() -> list[Path]:
    """NumPy's package folder and, in a wheel install, its bundled libraries (numpy.libs)."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or spec.origin is None:
        raise RuntimeError("numpy is not installed")
    package = Path(spec.origin).parent
    libs = package.with_name("numpy.libs")
    return [package, *([libs] if libs.is_dir() else [])]


def _ro(source: Path | str, dest: Path | str) -> list[str]:
    return ["--ro-bind", str(source), str(dest)]


def _system() -> list[str]:
    """/usr and the merged-/usr links, plus the few files programs read from /etc."""
    args = _ro("/usr", "/usr")
    for name in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / name
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += _ro(target, target)
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        if Path(name).exists():
            args += ["--ro-bind-try", name, name]
    return args


def _python() -> tuple[list[str], str]:
    """The base installation (not a virtual environment, whose site-packages hold torch)
    at its own path, so that its shared libraries and stdlib are found as usual."""
    prefix = Path(sys.base_prefix).resolve()
    executable = prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    if not executable.exists():
        executable = Path(sys.executable).resolve()
    args: list[str] = []
    for parent in reversed(prefix.parents):
        if str(parent) != "/" and not str(prefix).startswith("/usr"):
            args += ["--perms", "0755", "--dir", str(parent)]
    if not str(prefix).startswith("/usr"):
        args += _ro(prefix, prefix)
    # The base installation's own site-packages may hold anything (scipy, torch): an empty,
    # read-only folder is laid over it, and the child runs with -S besides.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for site in (
        prefix / "lib" / version / "site-packages",
        Path("/usr/lib/python3/dist-packages"),
    ):
        if site.is_dir():
            args += ["--tmpfs", str(site), "--remount-ro", str(site)]
    return args, str(executable)


def _identity() -> list[str]:
    if os.geteuid() != 0:
        return []
    uid = str(_FIRST_UID + (os.getpid() * 7919 + next(_counter)) % _UIDS)
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--no-new-privs",
    ]


def bwrap_command(
    child: list[str],
    *,
    files: dict[str, Path],
    data: dict[str, int],
    env: dict[str, str] | None = None,
) -> tuple[list[str], str]:
    """The bwrap argument list that runs ``python -I -B <child…>`` in the sandbox, and the
    Python it runs. ``files`` are host files bound read-only under ``/sandbox``; ``data``
    maps names under ``/sandbox`` to file descriptors whose contents bwrap copies in; ``env``
    is the child's whole environment."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise RuntimeError("bwrap is not installed")
    root = os.geteuid() == 0
    python_args, python = _python()
    args = [bwrap, "--unshare-all"] if not root else [bwrap]
    if root:  # no user namespace: the child's uid is dropped by setpriv instead
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    args += _system() + python_args
    args += ["--perms", "0755", "--dir", SANDBOX_DIR, "--perms", "0755", "--dir", "/sandbox/site"]
    for folder in _numpy_dirs():
        args += _ro(folder, f"{SANDBOX_DIR}/site/{folder.name}")
    for name, source in files.items():
        args += _ro(source, f"{SANDBOX_DIR}/{name}")
    for name, fd in data.items():
        args += ["--perms", "0444", "--ro-bind-data", str(fd), f"{SANDBOX_DIR}/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(TMPFS_BYTES), "--perms", "1777", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    if not root:
        args += ["--cap-drop", "ALL"]
    return [*args, *_identity(), python, "-I", "-B", "-S", *child], python


@functools.cache
def probe() -> Isolation:
    """Whether a trivial sandbox runs here (once per process)."""
    if not sys.platform.startswith("linux"):
        return Isolation(False, f"bubblewrap needs Linux; this is {sys.platform}")
    if shutil.which("bwrap") is None:
        return Isolation(False, "bwrap is not installed (Debian: apt-get install bubblewrap)")
    try:
        code = f"import sys; sys.path.insert(0, '{SANDBOX_DIR}/site'); import numpy"
        command, _ = bwrap_command(["-c", code], files={}, data={})
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        return Isolation(False, f"bwrap could not start: {error}")
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return Isolation(False, f"bwrap cannot create a sandbox here: {detail[0][:200]}")
    who = "a uid of its own, no capabilities" if os.geteuid() == 0 else "the caller's uid"
    return Isolation(True, f"bubblewrap: namespaces, read-only file system, {who}")
