"""Isolation layers: find out which are available, and apply them.

The trusted side calls `detect` and `zygote_command`. The zygote calls `confine_zygote`
once and `probe_worker_namespaces` to learn whether each worker can get namespaces of its
own; it forks each worker with `fork_worker`, which calls `enter_own_namespaces` and then
`confine_worker`. Layers degrade:
without root there is no per-worker uid, without Linux no seccomp or namespaces; the
names of the layers actually in force are reported so a grading run can record them.

Run as `python -S -m grader.sandbox.isolation` it is the small root "killer" the zygote
keeps, which kills every process of a worker's uid (cheaper to fork than the zygote).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

LINUX = sys.platform.startswith("linux")
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
WORKER_NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
"""Each worker's own: mounts (its /tmp and /dev/shm), host name, System V IPC, processes, network."""
WORKER_LAYERS = ["worker-mountns", "worker-ipcns", "worker-pidns", "worker-netns", "worker-tmpfs"]
"""The layer names `WORKER_NAMESPACES` put in force."""
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "arm64": 220}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    8,
    32,
    4096,
    16384,
    1 << 18,
)
MNT_DETACH = 2

SANDBOX_ROOT = "/sbx"
"""Inside bubblewrap, the private directory on PYTHONPATH holding grader/__init__.py and grader/sandbox."""


class IsolationError(RuntimeError):
    """A layer that was promised could not be applied; the worker must not run."""


@dataclass(frozen=True)
class Plan:
    """The layers a sandbox will use (see `layers`)."""

    bwrap: str | None
    root: bool
    seccomp: bool
    hidden: tuple[str, ...] = field(default=())

    @property
    def layers(self) -> list[str]:
        """The names of the layers this plan puts in force (the zygote may add "mountns", "netns")."""
        names = ["rlimit", "private-tmp"]
        if self.bwrap:
            names += ["bwrap", "netns", "pidns"]
        if self.root:
            names.append("own-uid")
        if LINUX:
            names += ["no-new-privs", "subreaper"]
        if self.seccomp:
            names.append("seccomp")
        return names


KEY_LAYERS = {
    "bwrap": "workers see the machine's files (hidden as root: the grader, solutions/, tests/, its cache)",
    "own-uid": "workers run as the grading user, and can read what it can",
    "seccomp": "workers may make any system call (sockets, tracing, namespaces)",
    "worker-ipcns": "workers share /tmp, /dev/shm, System V IPC, processes and network with each other",
}
"""The layers a fully equipped machine (Linux, root, bubblewrap, libseccomp) gives, and what is lost without each."""


def missing_layers_warning(layers: Sequence[str]) -> str | None:
    """One line naming the key layers not in force, or None."""
    missing = [name for name in KEY_LAYERS if name not in layers]
    if not missing:
        return None
    return f"warning: the sandbox runs without {', '.join(missing)} (README, 'The sandbox', says what that loses)"


NO_BWRAP = "SGD_NO_BWRAP"
"""Set this environment variable to 1 to grade as on a machine without bubblewrap."""


def detect(hidden: Sequence[str] = (), *, bubblewrap: bool = True) -> Plan:
    """What this machine offers: bubblewrap (if it works here and is not switched off), root, seccomp."""
    bubblewrap = bubblewrap and os.environ.get(NO_BWRAP, "") != "1"
    return Plan(
        bwrap=_working_bwrap() if bubblewrap and LINUX else None,
        root=os.geteuid() == 0,
        seccomp=LINUX and _seccomp_available(),
        hidden=tuple(str(Path(p).resolve()) for p in hidden),
    )


@lru_cache(maxsize=1)
def _working_bwrap() -> str | None:
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return path if ok else None


@lru_cache(maxsize=1)
def _seccomp_available() -> bool:
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    except Exception:  # noqa: BLE001 - missing module or missing libseccomp both mean "no"
        return False
    return True


def package_dirs() -> tuple[Path, Path]:
    """The `grader` package directory and the `grader/sandbox` directory."""
    sandbox = Path(__file__).resolve().parent
    return sandbox.parent, sandbox


def secret_paths(plan: Plan) -> list[str]:
    """Paths the worker must not see: the grader (except the sandbox), solutions, tests, and `plan.hidden`."""
    grader, _ = package_dirs()
    root = grader.parent
    candidates = [grader, root / "solutions", root / "tests", *map(Path, plan.hidden)]
    return [str(p) for p in candidates if p.exists()]


def python_paths() -> list[str]:
    """The folders Python (and the venv with torch) live in, as given and resolved."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    return sorted({q for p in paths for q in (os.path.abspath(p), os.path.realpath(p))})


def _system_binds(bound: list[str]) -> list[str]:
    """The system folders, read-only (appended to `bound`); top-level links kept as links."""
    cmd: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
            bound.append(top)
    return cmd


def _python_binds(bound: list[str]) -> list[str]:
    """Python's own folders not already under `bound`, read-only (appended to `bound`)."""
    cmd: list[str] = []
    made: set[str] = set()
    for p in python_paths():
        if not any(p == b or p.startswith(b + "/") for b in bound):
            for parent in reversed(Path(p).parents[:-1]):
                if str(parent) not in made:  # bwrap would copy modes like /root's 0700
                    cmd += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            cmd += ["--ro-bind", p, p]
            bound.append(p)
    return cmd


def zygote_command(plan: Plan, args: Sequence[str], device: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start the zygote (`args` go to the worker module)."""
    grader, sandbox = package_dirs()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "HOME": "/tmp",
    }
    python = [sys.executable, "-m", "grader.sandbox.worker", *args]
    if not plan.bwrap:
        env["PYTHONPATH"] = str(grader.parent)
        return python, env
    env["PYTHONPATH"] = SANDBOX_ROOT
    cmd = [
        plan.bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--proc",
        "/proc",
    ]
    cmd += ["--dev-bind", "/dev", "/dev"] if device.startswith("cuda") else ["--dev", "/dev"]
    cmd += ["--perms", "0755", "--tmpfs", "/tmp"]  # first, so binds below /tmp (a venv there) stay visible
    bound: list[str] = []
    cmd += _system_binds(bound) + _python_binds(bound)
    for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf"):
        cmd += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
    cmd += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    if device.startswith("cuda"):
        cmd += ["--ro-bind-try", "/sys", "/sys", "--ro-bind-try", "/proc/driver/nvidia", "/proc/driver/nvidia"]
    cmd += [
        "--ro-bind",
        str(grader / "__init__.py"),
        f"{SANDBOX_ROOT}/grader/__init__.py",
        "--ro-bind",
        str(sandbox),
        f"{SANDBOX_ROOT}/grader/sandbox",
    ]
    for secret in secret_paths(plan):
        if any(secret == b or secret.startswith(b + "/") for b in bound):
            cmd += (
                ["--perms", "0000", "--tmpfs", secret] if os.path.isdir(secret) else ["--ro-bind", "/dev/null", secret]
            )
    cmd += ["--chdir", "/tmp", "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *python], env


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(err)}")


def prctl(option: int, value: int) -> None:
    """Linux prctl with one argument; raise `IsolationError` on failure."""
    _check(_libc().prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def confine_zygote(plan: Plan) -> list[str]:
    """Zygote-wide layers: when root without bubblewrap, a private mount and network
    namespace that hides the secret paths and /tmp. Returns the layers it added."""
    if not LINUX:
        return []
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    if plan.seccomp:
        _seccomp_filter()
    if plan.bwrap or not plan.root:
        return []
    libc = _libc()
    try:
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    except IsolationError:
        return []
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _cover_tmp(libc, b"mode=0755")
    needed = [p for p in python_paths() if not any(p.startswith(q + "/") for q in python_paths())]
    for top in sorted({_closed_ancestor(p) for p in needed} - {None}):
        _reopen(libc, top, [p for p in needed if p.startswith(top + "/")])
    for secret in secret_paths(plan):
        if os.path.isdir(secret):
            _check(
                libc.mount(b"tmpfs", secret.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"mode=0000"), secret
            )
        else:
            _check(libc.mount(b"/dev/null", secret.encode(), None, MS_BIND, None), secret)
    return ["mountns", "netns"]


def _cover_tmp(libc: ctypes.CDLL, options: bytes) -> None:
    """Mount a fresh tmpfs on /tmp; the Python folders below /tmp (a venv there) reappear, read-only."""
    needed = [p for p in python_paths() if not any(p.startswith(q + "/") for q in python_paths())]
    under_tmp = {p: os.open(p, os.O_PATH) for p in needed if p.startswith("/tmp/")}
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options), "mount /tmp")
    for path, fd in under_tmp.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        _check(libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None), path)
        _check(libc.mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None), path)
        os.close(fd)


def fork_worker(namespaces: int) -> int:
    """`os.fork()`, the child in new `namespaces` (0: a plain fork); raise OSError if clone fails."""
    if not namespaces:
        return os.fork()
    api = ctypes.pythonapi
    number = _SYS_CLONE.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, "clone: unknown architecture")
    api.PyOS_BeforeFork()
    pid = ctypes.PyDLL(None, use_errno=True).syscall(
        ctypes.c_long(number), ctypes.c_ulong(namespaces | signal.SIGCHLD), None, None, None, None
    )
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


TMP_BYTES = 64 * 2**20
SHM_BYTES = 16 * 2**20
"""The size quotas of a worker's own /tmp and /dev/shm (their pages count against `memory_bytes`)."""
IPC_QUOTAS = {
    "shmmax": 8 * 2**20,
    "shmall": 2048,  # pages
    "shmmni": 16,
    "msgmni": 16,
    "msgmax": 8192,
    "msgmnb": 16384,
}
"""System V IPC limits inside a worker's own IPC namespace."""


def enter_own_namespaces() -> None:
    """In a worker cloned into `WORKER_NAMESPACES` (still root): private mounts, its own /proc,
    /tmp and /dev/shm, and small System V quotas; all of it dies with the worker."""
    libc = _libc()
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _read_only_everywhere(libc)
    _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    _cover_tmp(libc, f"mode=1777,size={TMP_BYTES}".encode())
    if os.path.isdir("/dev/shm"):
        _check(
            libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={SHM_BYTES}".encode()),
            "mount /dev/shm",
        )
    for name, value in IPC_QUOTAS.items():
        with open(f"/proc/sys/kernel/{name}", "w") as f:
            f.write(str(value))
    _set_limit(resource.RLIMIT_MSGQUEUE, 64 * 2**10)


_KEEP_WRITABLE = ("/proc", "/sys", "/dev")
"""Mounts left as they are: /proc is replaced, /sys is the kernel's, /dev holds devices."""


def _read_only_everywhere(libc: ctypes.CDLL) -> None:
    """Remount every mount of this (private) mount namespace read-only, so that no folder of the
    machine (/var/tmp, say) is left for one worker to write and a later one to read."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].replace("\\040", " ") for line in f]
    for point in points:
        if any(point == keep or point.startswith(keep + "/") for keep in _KEEP_WRITABLE):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | os.statvfs(point).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)
        libc.mount(None, point.encode(), None, flags, None)  # best effort: a mount that refuses stays as it is


def probe_worker_namespaces(plan: Plan) -> int:
    """`WORKER_NAMESPACES` if a worker can be cloned into them and set itself up there, else 0."""
    if not (LINUX and plan.root):
        return 0
    try:
        pid = fork_worker(WORKER_NAMESPACES)
    except OSError:
        return 0
    if pid == 0:
        code = 1
        try:
            enter_own_namespaces()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return WORKER_NAMESPACES if os.waitstatus_to_exitcode(status) == 0 else 0


def _closed_ancestor(path: str) -> str | None:
    """The highest folder above `path` that other users cannot enter (like /root), if any."""
    for parent in reversed(Path(path).parents[:-1]):
        if not os.stat(parent).st_mode & 0o001:
            return str(parent)
    return None


def _reopen(libc: ctypes.CDLL, top: str, keep: list[str]) -> None:
    """Cover `top` with an empty, enterable tmpfs in which only the folders `keep` reappear."""
    stage = "/tmp/.sgd-stage"
    os.mkdir(stage, 0o700)
    _check(libc.mount(top.encode(), stage.encode(), None, MS_BIND | MS_REC, None), f"stage {top}")
    _check(libc.mount(b"tmpfs", top.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755"), f"cover {top}")
    for path in keep:
        os.makedirs(path, exist_ok=True)
        source = os.path.join(stage, os.path.relpath(path, top))
        _check(libc.mount(source.encode(), path.encode(), None, MS_BIND | MS_REC, None), f"reopen {path}")
    _check(libc.umount2(stage.encode(), MNT_DETACH), f"unstage {top}")
    os.rmdir(stage)


@dataclass(frozen=True)
class WorkerLimits:
    """Resource limits for one worker process."""

    memory_bytes: int
    cpu_seconds: int
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 64


def confine_worker(plan: Plan, uid: int | None, limits: WorkerLimits) -> None:
    """Apply the per-worker layers of `plan` to this (freshly forked) process, or raise."""
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_AS, limits.memory_bytes)
    _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds)
    _set_limit(resource.RLIMIT_FSIZE, limits.file_bytes)
    _set_limit(resource.RLIMIT_NOFILE, limits.open_files)
    if plan.root:
        if uid is None:
            raise IsolationError("no uid for the worker")
        _set_limit(resource.RLIMIT_NPROC, limits.processes)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid) or os.getgroups():
            raise IsolationError("could not drop privileges")
    elif LINUX:
        _set_limit(resource.RLIMIT_NPROC, _processes_of(os.getuid()) + limits.processes)
    if LINUX:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if plan.seccomp:
        try:
            _seccomp_filter().load()
        except OSError as exc:
            raise IsolationError(f"seccomp: {exc}") from None


def _set_limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        try:
            count += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
        except OSError:
            pass
    return count


DENIED_SYSCALLS = (
    "socket",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "init_module",
    "finit_module",
)
"""Syscalls a worker may not make (they fail with EPERM): no new sockets of any family
(the worker's socket to the trusted side already exists), no tracing, no namespaces."""


@lru_cache(maxsize=1)
def _seccomp_filter() -> Any:
    """The worker's seccomp filter, built once in the zygote and loaded by each worker."""
    import pyseccomp

    flt = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            pass  # not a syscall on this architecture
    return flt


def kill_uid(uid: int) -> None:
    """Kill every process running as `uid` (from a forked child that becomes `uid`:
    `kill(-1)` then reaches exactly that uid's processes, atomically)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _serve_killer() -> None:
    """Read uids (one per line) on stdin; kill each one's processes; answer "ok"."""
    for line in sys.stdin:
        kill_uid(int(line))
        sys.stdout.write("ok\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve_killer()
