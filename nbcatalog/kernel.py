"""The Jupyter kernel that runs templates: this project's own Python, on IPC sockets.

A kernelspec whose argv says ``python`` runs whatever ``python`` is first on PATH,
which is not necessarily the environment nbcatalog is installed in. So the spec is
built from `sys.executable` and written into a private kernelspec folder that only
our kernel manager reads. The kernel listens on IPC (Unix socket) files in a
private runtime folder: no TCP port races between parallel runs and no warning
about unencrypted TCP from ipykernel 7.

Example:
    >>> from nbcatalog.kernel import kernel_argv
    >>> import sys
    >>> kernel_argv()[0] == sys.executable
    True
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Dict, default

KERNEL_NAME = "nbcatalog-python"

_private_dir: Path | None = None


def kernel_argv() -> list[str]:
    """The command that starts the kernel: this interpreter running ipykernel.

    Example:
        >>> kernel_argv()[1:3]
        ['-m', 'ipykernel_launcher']
    """
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def private_dir() -> Path:
    """A per-process folder (mode 0700) holding our kernelspec and IPC socket files.

    Kept short (under /tmp) because Unix socket paths are limited to ~100 bytes.
    """
    global _private_dir
    if _private_dir is None or not _private_dir.is_dir():
        base = "/tmp" if os.name == "posix" and os.path.isdir("/tmp") else None
        _private_dir = Path(tempfile.mkdtemp(prefix="nbc-", dir=base))
        atexit.register(shutil.rmtree, _private_dir, True)
    return _private_dir


def kernelspec_dir() -> Path:
    """Write (once per process) the kernelspec folder and return its parent.

    Example:
        >>> (kernelspec_dir() / KERNEL_NAME / "kernel.json").is_file()
        True
    """
    kernels = private_dir() / "kernels"
    spec_file = kernels / KERNEL_NAME / "kernel.json"
    if not spec_file.is_file():
        spec_file.parent.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": kernel_argv(),
            "display_name": f"nbcatalog ({Path(sys.executable).parent.parent.name})",
            "language": "python",
            "metadata": {"debugger": False},
        }
        spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return kernels


class ProjectKernelManager(AsyncKernelManager):
    """An async kernel manager for this interpreter's kernel on IPC transport.

    `extra_env` is added to the kernel's environment (the runner uses it to tell
    the kernel its run folder and to hand over secret parameters without writing
    them into the notebook).

    Example:
        >>> km = ProjectKernelManager()
        >>> km.transport, km.kernel_spec.argv[0] == sys.executable
        ('ipc', True)
    """

    extra_env = Dict(config=True, help="Variables added to the kernel's environment.")

    @default("kernel_name")
    def _default_kernel_name(self) -> str:
        return KERNEL_NAME

    @default("kernel_spec_manager")
    def _default_ksm(self) -> KernelSpecManager:
        return KernelSpecManager(kernel_dirs=[str(kernelspec_dir())], parent=self)

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("connection_file")
    def _default_connection_file(self) -> str:
        return str(private_dir() / f"k-{uuid.uuid4().hex[:12]}.json")

    @default("ip")
    def _default_ip(self) -> str:
        # With IPC the "ip" is the socket files' path prefix; relative would land in cwd.
        if self.transport == "ipc":
            return os.path.splitext(self.connection_file)[0] + "-ipc"
        return "127.0.0.1"

    async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        """Start the kernel with `extra_env` added to the inherited environment."""
        env = dict(kw.pop("env", None) or os.environ)
        # The debugger is off in our spec; this keeps debugpy's frozen-module warning quiet.
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        env.update({str(k): str(v) for k, v in self.extra_env.items()})
        kw["env"] = env
        await super().start_kernel(**kw)
