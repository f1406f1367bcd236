"""Kernel execution of learner code, only on request (``course autograde --execute``), in a sandbox.

This course's quizzes never need it: their answers are data. An assignment
that really holds learner code is run by nbgrader's own pipeline with
``Execute`` replaced by :class:`SandboxedExecute`, which runs the notebook in
a child process that

* sees an empty tmpfs where the gradebook, ``source/``, ``release/``, every
  learner's folder, the exchange and the course content are (a private mount
  namespace, ``unshare --mount``);
* has no network but loopback (``unshare --net``);
* runs as an unprivileged account (``nobody``) with no new privileges;
* is limited in memory, CPU time, file size and processes (``prlimit``),
  and in wall time;
* returns at most ``max_output_bytes`` of output: a graded cell that printed
  more scores 0, any other cell's output is cut.

These guarantees need root (to make the namespace and drop to the account);
without root the step refuses, rather than run learner code unisolated.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

import course
from course import ostools
from course.loader import content_root
from course.nbconfig import exchange_root

COURSE_DATA = ("gradebook", "source", "release", "submitted", "autograded", "feedback", "exchange", "logs",
               "homes", "reports", ".git")

# One cut rule, run by the sandboxed child before it writes anything large, and again here.
CAP = """
def cap_outputs(nb, limit):
    import json
    import nbformat
    used = 0
    note = "\\u8f93\\u51fa\\u8d85\\u8fc7\\u4e0a\\u9650\\uff0c\\u5df2\\u622a\\u65ad\\u3002"  # 输出超过上限，已截断。
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        size = len(json.dumps(cell.get("outputs", []), ensure_ascii=False))
        if used + size <= limit:
            used += size
        elif cell.metadata.get("nbgrader", {}).get("grade"):  # a graded cell over the limit fails, never passes
            cell.outputs = [nbformat.v4.new_output("error", ename="OutputLimit", evalue=note, traceback=[note])]
        else:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=note)]
    return nb
"""
CHILD = CAP + """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3", allow_errors=True,
                        interrupt_on_timeout=True, resources={"metadata": {"path": "."}})
code = 0
try:
    client.execute()
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    code = 3
nbformat.write(cap_outputs(nb, int(sys.argv[4])), sys.argv[2])
sys.exit(code)
"""
_namespace: dict[str, Any] = {}
exec(CAP, _namespace)
_cap_outputs = _namespace["cap_outputs"]


class SandboxError(RuntimeError):
    """Learner code could not be run (isolation unavailable, a crash, a timeout)."""


def hidden_paths(root: Path) -> list[Path]:
    """Everything learner code must not see: course data folders and the content with its keys."""
    paths = [root / name for name in COURSE_DATA]
    paths += [content_root(), Path(course.__file__).parent / "content", exchange_root(root)]
    seen: list[Path] = []
    for p in paths:
        p = p.resolve()
        if p.is_dir() and p not in seen:
            seen.append(p)
    return seen


def sandbox_tools(user: str = "nobody") -> dict[str, str]:
    """The tools the sandbox runs, by absolute path; why it cannot run here, as a ``SandboxError``.

    It needs root (to make the namespaces and drop to ``user``), util-linux's ``unshare``,
    ``setpriv`` and ``prlimit``, ``mount``, and an interpreter ``user`` can reach: learner code
    runs as that account, with this Python.
    """
    if os.geteuid() != 0:
        raise SandboxError("running learner code needs root (to isolate it with unshare and setpriv); "
                           "run `course autograde --execute` as root, or grade without --execute")
    try:
        tools = {name: ostools.tool(name) for name in ("unshare", "setpriv", "prlimit", "mount", "sh")}
    except ostools.MissingTool as exc:
        raise SandboxError(f"cannot isolate learner code: {exc}") from None
    ip = ostools.find("ip")  # loopback inside the namespace; without it the notebook has no network at all
    if ip:
        tools["ip"] = ip
    closed = ostools.closed_to_others(Path(sys.executable))
    if closed is not None:
        raise SandboxError(f"learner code runs as {user}, who cannot reach this Python ({sys.executable}): {closed} is "
                           f"closed to other accounts. Install the course with a Python outside it, or "
                           f"`chmod o+x {closed}`")
    return tools


def run_isolated(nb: NotebookNode, files: list[Path], hidden: list[Path], *, timeout: int, memory_mb: int,
                 max_output_bytes: int, user: str = "nobody") -> NotebookNode:
    """Execute ``nb`` with ``files`` beside it in the sandbox; return it with its (capped) outputs."""
    tools = sandbox_tools(user)
    work = Path(tempfile.mkdtemp(prefix="kam-exec-"))
    try:
        for f in files:
            shutil.copyfile(f, work / f.name, follow_symlinks=False)
        nbformat.write(nb, work / "in.ipynb")
        for p in [work, *work.iterdir()]:
            shutil.chown(p, user)
        q = {name: shlex.quote(path) for name, path in tools.items()}
        mounts = " ".join(f"{q['mount']} -t tmpfs -o size=64k,mode=0000 tmpfs {shlex.quote(str(p))};" for p in hidden)
        lo = f"{q['ip']} link set lo up;" if "ip" in q else ""
        limits = (f"--as={memory_mb * 2**20} --cpu={timeout + 10} --fsize={64 * 2**20} --nproc=512 "
                  "--nofile=512")
        script = (f"{mounts} {lo} exec {q['setpriv']} --reuid={user} --regid=nogroup --clear-groups --no-new-privs "
                  f"{q['prlimit']} {limits} -- \"$0\" \"$@\"")
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(work),
               "IPYTHONDIR": str(work / ".ipython"), "JUPYTER_RUNTIME_DIR": str(work / ".run"),
               "JUPYTER_CONFIG_DIR": str(work / ".jupyter"), "NBGRADER_EXECUTION": "autograde",
               "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
        cmd = [tools["unshare"], "--mount", "--net", "--propagation", "private", "--", tools["sh"], "-c", script,
               sys.executable, "-c", CHILD, "in.ipynb", "out.ipynb", str(timeout), str(max_output_bytes)]
        try:
            proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout + 60)
        except subprocess.TimeoutExpired:
            raise SandboxError(f"the notebook did not finish within {timeout + 60} s") from None
        out = work / "out.ipynb"
        if proc.returncode != 0 or not out.is_file() or out.is_symlink():
            reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            raise SandboxError(f"the notebook could not be run to the end: {reason}")
        if out.stat().st_size > max_output_bytes * 4 + len(nbformat.writes(nb)):
            raise SandboxError(f"the executed notebook is {out.stat().st_size:,} bytes: its output is far over "
                               "the limit")
        return _cap_outputs(nbformat.read(out, as_version=4), max_output_bytes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's ``Execute`` step, in the sandbox described in this module."""

    timeout = Integer(120, help="Seconds a notebook may run.").tag(config=True)
    memory_mb = Integer(2048, help="Address-space limit of the kernel, in MB.").tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Output kept per notebook.").tag(config=True)
    user = Unicode("nobody", help="Unprivileged account learner code runs as.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info: dict[str, Any] = resources["nbgrader"]
        root = Path(self.config.CourseDirectory.root).resolve()
        folder = root / "autograded" / info["student"] / info["assignment"]
        files = [f for f in sorted(folder.iterdir()) if f.is_file() and not f.is_symlink()
                 and f.suffix != ".ipynb" and f.stat().st_size <= 10 * 2**20] if folder.is_dir() else []
        executed = run_isolated(nb, files, hidden_paths(root), timeout=self.timeout, memory_mb=self.memory_mb,
                                max_output_bytes=self.max_output_bytes, user=self.user)
        return executed, resources
