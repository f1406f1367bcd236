"""What a learner's server can see on a shared machine: its home, the learners' Python, the exchange.

On one machine a learner's kernel runs any code as the learner's account, so every world-readable
file is open to it: an administrator's copy of the course in ``/srv``, a clone a CI left beside its
work, a backup of the gradebook. Kubernetes answers this with a container holding only the learners'
image (``deploy/``); here bubblewrap, Flatpak's sandbox, builds the same view. The learner's server
and everything it starts (kernels, terminals) get a new root holding only:

* the system, read-only: ``/usr``, ``/etc`` and the ``/bin``-style links or folders beside them;
* the learners' environment and the interpreter it was made from, read-only (no course, no keys);
* the learners' Jupyter configuration folder, read-only (owned by root);
* the learner's home and, with the closed exchange, the exchange folder, as they are (their modes
  decide what the learner may do there: :mod:`course.hub.layout`);
* a private ``/tmp``, a fresh ``/proc`` (a PID namespace: no other account's processes) and ``/dev``.

Nothing else of the machine exists inside. The account stays the learner's own (bwrap runs as the
learner in a user namespace mapping only that account), so the kernel still checks every file
against the learner's real user and groups. The network is the machine's: the hub, the sittings
service and ngshare are reached on the loopback as before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from course.errors import WorkflowError

BWRAP = "bwrap"
SYSTEM = ("/usr", "/etc")  # read-only, as they are
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # links into /usr on merged-usr systems


def bwrap() -> str:
    """The bubblewrap program, or WorkflowError with the fix."""
    found = shutil.which(BWRAP, path="/usr/bin:/bin:/usr/local/bin")
    if found is None:
        raise WorkflowError("bubblewrap is not installed: learners' servers run in its sandbox, so that no other "
                            "file of this machine is open to them. fix: `apt-get install bubblewrap` "
                            "(Debian/Ubuntu) or `dnf install bubblewrap`, then run `course hub` again")
    return found


def base_prefix(env: Path) -> Path:
    """The installation the virtual environment ``env`` was made from (pyvenv.cfg's ``home`` is its bin)."""
    cfg = env / "pyvenv.cfg"
    for line in cfg.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return Path(value.strip()).resolve().parent
    raise WorkflowError(f"{cfg} names no `home`: the learners' environment is not a virtual environment; "
                        "fix: delete it and run `course hub` again")


def _system_args() -> list[str]:
    args: list[str] = []
    for path in SYSTEM:
        args += ["--ro-bind", path, path]
    for path in SYSTEM_LINKS:
        link = Path(path)
        if link.is_symlink():
            args += ["--symlink", str(link.readlink()), path]
        elif link.is_dir():
            args += ["--ro-bind", path, path]
    return args


def view_args(home: Path, learner_env: Path, config_dir: Path, exchange: Path | None) -> list[str]:
    """bwrap's arguments for a learner's view of the machine (the list in the module's docstring).

    Later mounts may lie inside earlier ones (an environment under ``/usr/local``, an exchange under
    ``/tmp`` in a test): bwrap makes the mount points as it goes.
    """
    args = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
            "--new-session", *_system_args(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in dict.fromkeys([base_prefix(learner_env), learner_env, config_dir]):
        if not any(path == Path(top) or Path(top) in path.parents for top in SYSTEM):  # bound already
            args += ["--ro-bind", str(path), str(path)]
    if exchange is not None:
        args += ["--bind", str(exchange), str(exchange)]
    args += ["--bind", str(home), str(home), "--chdir", str(home)]
    return args


def command(argv: list[str], home: Path, learner_env: Path, config_dir: Path, exchange: Path | None) -> list[str]:
    """``argv`` run inside the learner's view; the spawner starts it as the learner (bwrap needs no privilege)."""
    return [bwrap(), *view_args(home, learner_env, config_dir, exchange), "--", *argv]
