"""Builds a lab's hidden tests against a submission, without touching the working tree.

The submission's editable files (and nothing else) go into a small generated repository,
<cache>/submissions/<lab>/:

    WORKSPACE      workspace(name = "lab_<lab>_submission")
    BUILD.bazel    lab_submission(lab = "<lab>", srcs = [...])   (bazel/lab.bzl)
    <the editable files>

and Bazel builds //labs/<lab>:hidden_test with

    --override_repository=lab_<lab>_submission=<that folder>

so the hidden tests link against it. Everything else (runtime, gtest, abseil, the hidden test
objects) comes from Bazel's caches: regrading after a one-file change recompiles that file and
relinks. The folder's path never changes, so neither does the command line (Bazel would
otherwise discard its analysis cache), and files are rewritten only when their content changed.

Grading uses its own output bases, one per build flavour (plain, tsan, asan), so it never
waits for, or restarts, the Bazel server of the student's own builds, and the three builds
run at the same time (one Bazel command compiles one submission file at a time; three keep
both cores busy). `--symlink_prefix` puts the convenience symlinks under the cache instead of
bazel-* in the working tree (and, before Bazel 7, --experimental_no_product_name_out_symlink
keeps Bazel from repointing the tree's own bazel-out at the grader's output base). Everything lives in one folder per working tree,
~/.cache/go-course/grade/<hash of the tree's path>/ (output-base-<build>/, submissions/<lab>/,
links/): an output base serves one workspace, and two checkouts must not share one. The
shared disk cache (.bazelrc) keeps the three from compiling the same object twice.
The server exits after 15 idle minutes (--max_idle_secs).
"""

import dataclasses
import fcntl
import hashlib
import os
import re
import subprocess
import threading
import time

BUILD_CONFIGS = {"plain": [], "tsan": ["--config=tsan"], "asan": ["--config=asan"]}

_PROGRESS = re.compile(r"^\[(\d[\d,]*) / (\d[\d,]*)\]")


@dataclasses.dataclass
class BuildResult:
    build: str
    ok: bool
    output: str  # Bazel's output (compiler errors on failure)
    binary: str  # path of the hidden test binary (valid when ok)
    seconds: float
    timed_out: bool = False


_OUT_SYMLINK_FLAGS = None


def out_symlink_flags(bazel="bazel"):
    """Flags that keep `bazel-out` out of the working tree under --symlink_prefix.

    Bazel 4-6 create <workspace>/bazel-out even with --symlink_prefix unless told not to; Bazel
    7 names it with the prefix (the flag became a no-op there) and Bazel 8 dropped the flag.
    Debian's Bazel 4 says "bazel no_version": an unknown version gets the flag."""
    global _OUT_SYMLINK_FLAGS
    if _OUT_SYMLINK_FLAGS is None:
        try:
            out = subprocess.run([bazel, "--version"], capture_output=True, text=True,
                                 timeout=60).stdout
            m = re.search(r"(\d+)\.", out)
            major = int(m.group(1)) if m else 0
        except (OSError, subprocess.SubprocessError):
            major = 0
        _OUT_SYMLINK_FLAGS = (["--experimental_no_product_name_out_symlink"]
                              if major < 8 else [])
    return list(_OUT_SYMLINK_FLAGS)


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "go-course")


class Builder:
    def __init__(self, repo, cache_dir=None, output_base=None, bazel="bazel"):
        self.repo = repo
        tree = hashlib.sha1(os.path.realpath(repo).encode()).hexdigest()[:12]
        self.cache_dir = os.path.join(cache_dir or default_cache_dir(), "grade", tree)
        self.output_base = output_base or os.path.join(self.cache_dir, "output-base")
        self.bazel = bazel
        self._lock_file = None

    def output_base_for(self, build):
        """Each build flavour has its own output base (and Bazel server): they build at once."""
        return "%s-%s" % (self.output_base.rstrip("/"), build)

    def lock(self, on_wait=None):
        """Holds an exclusive lock on the output base for this process's lifetime.

        Two graders sharing an output base would overwrite each other's submission folder.
        """
        os.makedirs(self.cache_dir, exist_ok=True)
        self._lock_file = open(self.output_base.rstrip("/") + ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def submission_dir(self, lab):
        return os.path.join(self.cache_dir, "submissions", lab)

    def repo_name(self, lab):
        return "lab_%s_submission" % lab  # must match bazel/lab.bzl

    def write_submission(self, lab, files):
        """Writes the generated repository for `files` ({name: bytes}); returns its path."""
        d = self.submission_dir(lab)
        os.makedirs(d, exist_ok=True)
        srcs = sorted(files)
        generated = {
            "WORKSPACE": ('# Generated by grading/grade.py: one submission of lab %s.\n'
                          'workspace(name = "%s")\n' % (lab, self.repo_name(lab))).encode(),
            "BUILD.bazel": ('# Generated by grading/grade.py (see bazel/lab.bzl).\n'
                            'load("@//bazel:lab.bzl", "lab_submission")\n\n'
                            'lab_submission(\n    lab = "%s",\n    srcs = [%s],\n)\n' %
                            (lab, ", ".join('"%s"' % s for s in srcs))).encode(),
        }
        want = dict(files)
        want.update(generated)
        for name, data in want.items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                with open(path, "rb") as f:
                    if f.read() == data:
                        continue
            except OSError:
                pass
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        # Files of an earlier submission that this one does not have.
        for root, _dirs, names in os.walk(d, topdown=False):
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), d)
                if rel not in want:
                    os.remove(os.path.join(root, n))
        return d

    def link_prefix(self, build):
        return os.path.join(self.cache_dir, "links", build + "-")

    def binary_path(self, lab, build):
        return os.path.join(self.link_prefix(build) + "bin", "labs", lab, "hidden_test")

    def command(self, lab, build, targets=None):
        return ([self.bazel, "--output_base=" + self.output_base_for(build), "--max_idle_secs=900",
                 "build"]
                + BUILD_CONFIGS[build]
                + ["--override_repository=%s=%s" % (self.repo_name(lab), self.submission_dir(lab)),
                   "--symlink_prefix=" + self.link_prefix(build)]
                + out_symlink_flags(self.bazel)
                + ["--color=no", "--curses=no", "--show_progress_rate_limit=2",
                   # Warnings and errors of the submission and of the project; not of gtest.
                   "--output_filter=^(//|@%s//)" % self.repo_name(lab)]
                + (targets or ["//labs/%s:hidden_test" % lab]))

    def target_binary(self, target, build):
        """Where the test binary of `target` ("//pkg:name") lands in `build`."""
        pkg, _, name = target[2:].partition(":")
        return os.path.join(self.link_prefix(build) + "bin", pkg, name)

    def build_targets(self, targets, build, timeout=3600):
        """Builds arbitrary targets of the main repository in one Bazel command (the
        self-check's known-bad submissions). Returns a BuildResult (binary unset)."""
        cmd = ([self.bazel, "--output_base=" + self.output_base_for(build), "--max_idle_secs=900",
                "build", "--keep_going"] + BUILD_CONFIGS[build]
               + ["--symlink_prefix=" + self.link_prefix(build)] + out_symlink_flags(self.bazel)
               + ["--color=no", "--curses=no", "--show_progress_rate_limit=10"] + list(targets))
        return self._run(cmd, build, "", timeout, None)

    def build(self, lab, build, timeout=3600, on_progress=None):
        """Runs the Bazel build of the hidden tests against the submission, in one build."""
        return self._run(self.command(lab, build), build, self.binary_path(lab, build), timeout,
                         on_progress)

    def _run(self, cmd, build, binary, timeout, on_progress):
        os.makedirs(os.path.dirname(self.link_prefix(build)), exist_ok=True)
        start = time.monotonic()
        lines = []
        timed_out = False
        proc = subprocess.Popen(cmd, cwd=self.repo, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def read():
            for raw in proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                lines.append(line)
                m = _PROGRESS.match(line)
                if on_progress and m:
                    on_progress(int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")))

        # A thread reads, so a Bazel that goes silent cannot outlive the timeout.
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        proc.stdout.close()
        seconds = time.monotonic() - start
        output = "\n".join(_interesting(lines))
        ok = proc.returncode == 0 and not timed_out and (not binary or os.path.isfile(binary))
        if timed_out:
            output += "\ngrader: the build did not finish within %d s" % timeout
        return BuildResult(build=build, ok=ok, output=output, binary=binary, seconds=seconds,
                           timed_out=timed_out)

    def shell_command(self, lab, build):
        """The build command, quoted for a person to paste."""
        import shlex
        return "cd %s && %s" % (shlex.quote(self.repo), " ".join(
            shlex.quote(c) for c in self.command(lab, build)))


def _interesting(lines):
    """Bazel's output without progress chatter (kept: errors, warnings, compiler output)."""
    keep = []
    for line in lines:
        if _PROGRESS.match(line) or line.startswith(("Loading:", "Analyzing:", "INFO: Invocation",
                                                     "INFO: Reading", "INFO: Current date",
                                                     "INFO: Options provided",
                                                     "Computing main repo mapping")):
            continue
        keep.append(line)
    return keep
