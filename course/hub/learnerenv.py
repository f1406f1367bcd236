"""The learners' environment: a virtualenv with JupyterLab, nbgrader and the keyless runtime, and no course.

A learner's server and kernels run as the learner's own account, so everything their interpreter
can import is readable to them. The instructors' environment holds the course content (answer
keys, 解析, rubrics); the learners' must not. ``course hub`` builds this one from
``course/runtime/`` (the ``kam-course-runtime`` distribution: widgets, answer saving, scoring
rules, the learner's exchange steps) plus the Jupyter parts at the versions the instructors run,
and spawns every learner with it.

Building takes about a minute (pip, from its cache); a stamp of what was installed lets the next
``course hub`` reuse the environment, reinstalling only the runtime when its files changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from course.errors import WorkflowError

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "runtime"  # course/runtime: its own pyproject.toml
# Pinned to the versions the instructors' environment runs, so both sides speak the same protocols.
PINNED = ("jupyterlab", "jupyterhub", "nbgrader", "ipywidgets", "ipykernel", "jupyter_server")
LANGUAGE_PACK = "jupyterlab-language-pack-zh-cn==4.5.post3"  # JupyterLab's menus in Simplified Chinese
STAMP = "kam-learner-env.json"
# nbgrader's exchange for the ngshare service (course.hub.ngshare). Its metadata pins jupyter-core<4.11.2, which
# JupyterLab 4 cannot use and its code does not need: installed without dependencies, its real needs beside it.
CLIENT_NAME, CLIENT_VERSION = "ngshare-exchange", "0.5.3"
CLIENT_NEEDS = ("rapidfuzz", "requests")  # at the instructors' versions; nbgrader and traitlets are there already


def requirements() -> list[str]:
    """What the learners' environment installs besides the runtime."""
    return [f"{name}=={metadata.version(name)}" for name in PINNED] + [LANGUAGE_PACK]


def runtime_files(runtime_dir: Path = RUNTIME_DIR) -> list[Path]:
    """The runtime distribution: its pyproject.toml and its package's modules."""
    return [runtime_dir / "pyproject.toml", *sorted((runtime_dir / "course_runtime").rglob("*.py"))]


def runtime_digest(runtime_dir: Path = RUNTIME_DIR) -> str:
    """A fingerprint of the runtime's files: when its code changes, the runtime is reinstalled."""
    h = hashlib.sha256()
    for path in runtime_files(runtime_dir):
        h.update(str(path.relative_to(runtime_dir)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def client_requirements() -> list[str]:
    """ngshare_exchange's real needs, at the versions the instructors' environment runs."""
    return [f"{name}=={metadata.version(name)}" for name in CLIENT_NEEDS]


def pip_install(env: Path, args: list[str], what: str = "the learners' environment") -> None:
    # umask 022: every account reads and runs the environment; only root writes it.
    done = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           *args], capture_output=True, text=True, check=False, umask=0o022)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise WorkflowError(f"installing {what} in {env} failed (pip needs PyPI or its cache):\n"
                            f"{tail}\nFix the cause and run `course hub` again; or delete {env} to start afresh")


def remove_exchange_client(env: Path) -> None:
    """ngshare_exchange out of an environment that had it (its needs stay: the Jupyter stack uses them too)."""
    done = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", CLIENT_NAME],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WorkflowError(f"removing {CLIENT_NAME} from {env} failed:\n{done.stderr.strip()}\n"
                            f"Delete {env} and run `course hub` again to build it afresh")


def new_venv(env: Path) -> None:
    """An empty virtualenv at ``env`` from the interpreter under this one (readable by every account)."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(env)], check=True, umask=0o022)


def install_exchange_client(env: Path) -> None:
    """ngshare_exchange without its stale jupyter-core pin, and its real needs (see course.hub.ngshare)."""
    pip_install(env, client_requirements(), what="ngshare_exchange's needs")
    pip_install(env, ["--no-deps", f"{CLIENT_NAME}=={CLIENT_VERSION}"], what="ngshare_exchange")


def install_runtime(env: Path, runtime_dir: Path) -> None:
    # Not editable, and built from a copy: the environment gets its own files (learners may read them), and
    # the clone, closed to learners, is neither read by them nor written by the build.
    with tempfile.TemporaryDirectory(prefix="kam-runtime-") as tmp:
        for path in runtime_files(runtime_dir):
            target = Path(tmp) / path.relative_to(runtime_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        pip_install(env, ["--force-reinstall", "--no-deps", str(tmp)])


def ensure(env: Path, runtime_dir: Path = RUNTIME_DIR, exchange_client: bool = False) -> bool:
    """Build or update the learners' environment at ``env``; True if anything was installed.

    ``exchange_client``: with ngshare_exchange (the ngshare exchange); without it, an environment that had it
    loses it, so a closed-exchange hub runs exactly the parts its tests prove (with the client installed, the
    closed path's browser test lost the saved widget views after a restart in 4 of 4 runs; cause not found).
    """
    stamp = env / STAMP
    have = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else {}
    client = f"{CLIENT_NAME}=={CLIENT_VERSION}"
    wanted: dict[str, object] = {"requirements": requirements(), "runtime": runtime_digest(runtime_dir)}
    if exchange_client:
        wanted["exchange_client"] = client
    if have == wanted:
        return False
    rebuild = have.get("requirements") != wanted["requirements"]
    if rebuild:
        new_venv(env)
        pip_install(env, requirements())
    if exchange_client and (rebuild or have.get("exchange_client") != client):
        install_exchange_client(env)
    if not exchange_client and not rebuild and have.get("exchange_client"):
        remove_exchange_client(env)
    if rebuild or have.get("runtime") != wanted["runtime"]:
        install_runtime(env, runtime_dir)
    stamp.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return True


def image_requirements(hub_version: str | None = None) -> list[str]:
    """What the learners' image installs (deploy/images/learner): this environment's parts, and ngshare's client's
    needs; ``hub_version``: jupyterhub at the hub image's version (the chart's, on Kubernetes)."""
    found = [*requirements(), *client_requirements()]
    if hub_version:
        found = [f"jupyterhub=={hub_version}" if r.startswith("jupyterhub==") else r for r in found]
    return found


if __name__ == "__main__":  # `python -m course.hub.learnerenv [HUB_VERSION] > requirements.txt` for the image
    print("\n".join(image_requirements(sys.argv[1] if len(sys.argv) > 1 else None)))
