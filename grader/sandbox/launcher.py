"""Starting the zygote without importing torch, so the caller can import torch meanwhile.

`python -m grader grade` launches first and imports the grader after: the zygote's start
(its own torch import) then overlaps the parent's, which saves about a second per cold
grade on two cores. `client.Sandbox` adopts a `Launch`, or makes one itself.
"""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import IO

from grader.sandbox import isolation


@dataclass
class Launch:
    """A zygote that was started, and has not yet said hello."""

    plan: isolation.Plan
    device: str
    proc: subprocess.Popen
    ctl: socket.socket
    stderr: IO[bytes]
    started: float
    adopted: bool = False
    """Set by the `Sandbox` that took it over; closing it is then the sandbox's job."""

    def close(self) -> None:
        """Stop the zygote, unless a `Sandbox` adopted it."""
        if self.adopted:
            return
        self.adopted = True
        self.ctl.close()
        self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def launch(
    hidden_paths: Sequence[str] = (), device: str = "cpu", *, bubblewrap: bool = True, preload_optim: bool = False
) -> Launch:
    """Start a zygote under the strongest isolation this machine offers. With `preload_optim`, it
    makes one torch.optim optimizer before forking any worker: the first one imports torch._dynamo
    (about a second), which workers would otherwise pay each time a submission uses torch.optim."""
    plan = isolation.detect(hidden_paths, bubblewrap=bubblewrap)
    ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    plan_json = json.dumps({**asdict(plan), "hidden": list(plan.hidden)})
    args = ["--fd", str(theirs.fileno()), "--plan", plan_json] + (["--preload-optim"] if preload_optim else [])
    argv, env = isolation.zygote_command(plan, args, device)
    stderr = tempfile.TemporaryFile()
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        env=env,
        pass_fds=[theirs.fileno()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
        cwd=tempfile.gettempdir(),
    )
    theirs.close()
    return Launch(plan, device, proc, ctl, stderr, started)
