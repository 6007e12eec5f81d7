"""Runs one untrusted test process with a time limit, resource limits and capped output.

The grader runs every hidden test case of a submission in its own process through run().
Whatever the process does (loops forever, forks without end, prints gigabytes, crashes,
escapes its process group with setsid), run() returns within its time limit plus a few
seconds, with at most `output_cap` bytes of output kept, and leaves no process behind.

How each threat is contained:
  - hangs: a deadline; on expiry every process of the run is killed with SIGKILL.
  - fork bombs: RLIMIT_NPROC. Linux ignores it for root, so when the grader runs as root
    (Gradescope, CI containers) each worker slot runs its processes as its own unused uid
    (ISOLATED_UID_BASE + slot, no passwd entry needed); the limit then counts exactly that
    run's processes and threads, and "kill every process of this uid" reaps even processes
    that left the process group. Without root, the limit is the user's current task count
    plus a budget, and the process group is killed.
  - huge output: stdout and stderr share a pipe the grader drains continuously, keeping the
    first quarter and the last three quarters of `output_cap` bytes (the end of a log says
    why a test failed; the start says what ran) and counting the rest.
  - big files, core dumps: RLIMIT_FSIZE, RLIMIT_CORE = 0.
  - crashes: reported as a signal, never raised.

Limits are applied with util-linux `prlimit` in front of the command (so no Python runs in
the forked child, which is unsafe in a threaded program); when prlimit is missing, a
preexec_fn sets them instead. Memory is not limited: ASan and TSan reserve terabytes of
virtual address space, which RLIMIT_AS cannot tell apart from a real allocation.

Used by grading/grade.py; tested by grading/grader_test.py with small shell and Python
programs (no Bazel needed).
"""

import collections
import dataclasses
import os
import pwd
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import time

# First uid used for isolated runs as root (one per worker slot). Chosen above the usual
# system (<1000) and user (1000-60000) ranges; uids with a passwd entry or a running process
# are skipped.
ISOLATED_UID_BASE = 61000

# Seconds a process that has exited may keep the output pipe open through children before
# they are killed.
_STRAGGLER_GRACE = 0.5


@dataclasses.dataclass
class Limits:
    timeout: float = 60.0  # seconds of wall-clock time
    output_cap: int = 256 * 1024  # bytes of output kept
    nproc: int = 512  # processes + threads the run may have at once
    fsize: int = 256 * 1024 * 1024  # largest file it may write, bytes


@dataclasses.dataclass
class RunResult:
    returncode: int  # exit status, or -N when killed by signal N
    timed_out: bool  # the deadline passed and the grader killed it
    output: str  # stdout+stderr, capped (see `truncated`)
    output_bytes: int  # bytes written in total
    truncated: bool  # some output was dropped from the middle
    duration: float  # seconds
    user: str  # who it ran as, e.g. "uid 61000" or "root"

    @property
    def signal(self):
        """The signal that killed the process (None if it exited or timed out)."""
        if self.timed_out or self.returncode >= 0:
            return None
        return -self.returncode


class CappedOutput:
    """Keeps the head and the tail of a byte stream, counting what it drops."""

    def __init__(self, cap):
        self.head_cap = cap // 4
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = collections.deque()
        self.tail_len = 0
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail.append(bytes(data))
        self.tail_len += len(data)
        while self.tail and self.tail_len - len(self.tail[0]) >= self.tail_cap:
            self.tail_len -= len(self.tail.popleft())

    @property
    def truncated(self):
        return self.total > len(self.head) + min(self.tail_len, self.tail_cap)

    def text(self):
        tail = b"".join(self.tail)
        if len(tail) > self.tail_cap:
            tail = tail[len(tail) - self.tail_cap:]
        dropped = self.total - len(self.head) - len(tail)
        if dropped > 0:
            middle = b"\n\n[... grader: %d bytes of output omitted ...]\n\n" % dropped
            data = bytes(self.head) + middle + tail
        else:
            data = bytes(self.head) + tail
        return data.decode("utf-8", errors="replace")


def _live_procs():
    """(pid, uid, pgrp) of every process that is not a zombie.

    Zombies are skipped: they are already dead, and a container's init may never reap them.
    """
    procs = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid = os.stat("/proc/" + name).st_uid
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) < 3 or fields[0] in (b"Z", b"X"):
            continue
        procs.append((int(name), uid, int(fields[2])))
    return procs


def _pids_of_uid(uid):
    return [pid for pid, u, _ in _live_procs() if u == uid]


def _tasks_of_uid(uid):
    """Processes + threads whose real uid is `uid` (what RLIMIT_NPROC counts)."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid_ok = threads = None
            with open("/proc/%s/status" % name) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        uid_ok = int(line.split()[1]) == uid
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
            if uid_ok:
                total += threads or 1
        except (OSError, ValueError):
            continue
    return total


def kill_uid(uid, rounds=200):
    """SIGKILLs every process of `uid` until none is left (a fork bomb keeps forking)."""
    for _ in range(rounds):
        pids = _pids_of_uid(uid)
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)
    return False


def kill_group(pgid, rounds=200):
    """SIGKILLs process group `pgid` until no live member is left."""
    for _ in range(rounds):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if not any(g == pgid for _, _, g in _live_procs()):
            return True
        time.sleep(0.005)
    return False


def remove_tree(path):
    """rm -rf that also removes folders a test made unreadable (mode 000)."""

    def fix(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
        except OSError:
            pass
        try:
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)


class Sandbox:
    """Runs commands for the grader's worker slots (see the module comment).

    root: a folder the sandbox may use for per-run temporary folders (created if missing).
    isolate: "auto" (a separate uid per slot when running as root and the kernel allows it),
        or False (never switch user).
    """

    def __init__(self, root, isolate="auto", slots=1):
        self.root = root
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        self.prlimit = shutil.which("prlimit")
        self.uids = []
        if isolate and os.geteuid() == 0:
            self.uids = self._pick_uids(slots)
        self.isolated = bool(self.uids)
        self._user_tasks = None  # tasks of the (non-root) user before the first run
        for uid in self.uids:
            kill_uid(uid)

    def describe(self):
        if self.isolated:
            return "each test process runs as its own unprivileged uid (%d..%d)" % (
                self.uids[0], self.uids[-1])
        if os.geteuid() == 0:
            return ("test processes run as root (this kernel refused a switch to an "
                    "unprivileged uid): fork bombs are contained by process group only, and "
                    "tests of PERMISSION_DENIED are skipped")
        return "test processes run as %s" % pwd.getpwuid(os.geteuid()).pw_name

    def _pick_uids(self, slots):
        uids = []
        uid = ISOLATED_UID_BASE
        while len(uids) < slots and uid < ISOLATED_UID_BASE + 1000:
            try:
                pwd.getpwuid(uid)
                taken = True
            except KeyError:
                taken = bool(_pids_of_uid(uid))
            if not taken:
                uids.append(uid)
            uid += 1
        if len(uids) < slots:
            return []
        # Can this kernel/container switch to it at all? (User namespaces often map only 0.)
        try:
            r = subprocess.run(["/bin/true"], user=uids[0], group=uids[0], extra_groups=[],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10)
            if r.returncode != 0:
                return []
        except (OSError, subprocess.SubprocessError):
            return []
        return uids

    def make_run_dir(self, slot):
        """A fresh temporary folder owned by the slot's user (the test's TEST_TMPDIR)."""
        d = tempfile.mkdtemp(prefix="run.", dir=self.root)
        if self.isolated:
            uid = self.uids[slot]
            os.chown(d, uid, uid)
        return d

    def _limit_prefix(self, limits, nproc):
        if not self.prlimit:
            return []
        return [self.prlimit, "--nproc=%d" % nproc, "--fsize=%d" % limits.fsize,
                "--core=0", "--"]

    def run(self, argv, env, limits, slot=0, cwd=None):
        """Runs argv; returns a RunResult. Never raises for anything the process does."""
        uid = self.uids[slot] if self.isolated else None
        if uid is not None:
            nproc = limits.nproc  # _kill_all left nothing of this uid behind the last run
        else:
            if self._user_tasks is None:
                self._user_tasks = _tasks_of_uid(os.getuid())
            nproc = self._user_tasks + limits.nproc
        kwargs = {}
        if uid is not None:
            kwargs.update(user=uid, group=uid, extra_groups=[])
        prefix = self._limit_prefix(limits, nproc)
        if not prefix:
            def set_limits():
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
                resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize, limits.fsize))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            kwargs["preexec_fn"] = set_limits
        out = CappedOutput(limits.output_cap)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(prefix + list(argv), env=env, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
        except OSError as e:
            return RunResult(returncode=127, timed_out=False,
                             output="grader: could not start %s: %s\n" % (argv[0], e),
                             output_bytes=0, truncated=False, duration=0.0,
                             user=self._user_name(uid))
        timed_out = self._pump(proc, out, start + limits.timeout, uid)
        duration = time.monotonic() - start
        return RunResult(returncode=proc.returncode, timed_out=timed_out, output=out.text(),
                         output_bytes=out.total, truncated=out.truncated, duration=duration,
                         user=self._user_name(uid))

    @staticmethod
    def _user_name(uid):
        if uid is not None:
            return "uid %d" % uid
        try:
            return pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            return "uid %d" % os.getuid()

    def _kill_all(self, proc, uid):
        if uid is not None:
            kill_uid(uid)  # every process of the run, even those that left the group
        else:
            kill_group(proc.pid)

    def _pump(self, proc, out, deadline, uid):
        """Drains proc's output until it and its children are gone; True if it timed out."""
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        timed_out = False
        eof = False
        exited_at = None
        try:
            while not eof:
                now = time.monotonic()
                if now >= deadline:
                    timed_out = proc.poll() is None
                    break
                if exited_at is None and proc.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > _STRAGGLER_GRACE:
                    break  # children still hold the pipe: they are killed below
                for _key, _ in sel.select(min(deadline - now, 0.05)):
                    while True:
                        try:
                            data = os.read(fd, 1 << 16)
                        except BlockingIOError:
                            break
                        if not data:
                            eof = True
                            break
                        out.add(data)
            if eof and not timed_out:
                # The output is closed, but the process may still run (it closed stdout).
                try:
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = True
        finally:
            self._kill_all(proc, uid)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            # Whatever is still buffered in the pipe (every writer is dead now).
            try:
                while True:
                    data = os.read(fd, 1 << 16)
                    if not data:
                        break
                    out.add(data)
            except OSError:
                pass
            sel.close()
            proc.stdout.close()
        if proc.returncode is None:  # unkillable (should not happen): report as a timeout
            timed_out = True
            proc.returncode = -signal.SIGKILL
        return timed_out
