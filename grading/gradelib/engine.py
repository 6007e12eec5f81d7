"""Grades one submission of one lab: the steps behind `./course grade`.

  1. take the lab's editable files from the submission folder (list the rest as ignored); a
     known-bad submission's <file>.patch is applied to the solution's file instead
  2. build the hidden tests against them in each build (plain, tsan, asan), see bazel.py;
     a build failure scores 0 and shows the compiler's errors
  3. run every rubric case in its own sandboxed process (sandbox.py), once per build and seed
     (GO_SYNCTEST_SEED), with a time limit; classify each run (classify.py)
  4. a case earns its points only if every run passed

Runs are ordered build by build, seed by seed, so the fast plain build goes first; once a run of
a case fails, its remaining runs are skipped (they could not change the score).

The result (GradeResult) is turned into a terminal table, results.json and JUnit XML by
report.py.
"""

import concurrent.futures
import dataclasses
import fnmatch
import os
import shlex
import shutil
import stat
import tempfile
import threading
import time

from . import apply_patch
from . import bazel as bazel_mod
from . import classify
from . import labspec
from . import sandbox

# Largest editable file accepted (bytes): a source file, not a data set.
MAX_FILE_BYTES = 1 << 20

# Environment of every test process. Sanitizer options match .bazelrc's --config=asan/tsan
# (what `bazel test` uses), so a failure replays the same way in the student's own builds.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
BUILD_ENV = {
    "plain": {},
    "asan": {
        "ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=0:strict_init_order=1:"
                        "check_initialization_order=1:abort_on_error=0:halt_on_error=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "LSAN_OPTIONS": "report_objects=1",
    },
    # atexit_sleep_ms=0: TSan otherwise sleeps 1 s at every exit (to catch races with exiting
    # threads); one process per case makes that the biggest cost of a TSan run.
    "tsan": {"TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0"},
}
# Sanitized binaries run slower; their time limit is this many times the plain one.
SANITIZER_TIME_FACTOR = 2

# A run whose sanitizer runtime itself failed ("ThreadSanitizer: CHECK failed") says nothing
# about the submission; it is repeated this many more times before it counts as an error.
INFRASTRUCTURE_RETRIES = 2


@dataclasses.dataclass
class Options:
    builds: list = dataclasses.field(default_factory=lambda: list(labspec.BUILDS))
    seeds: list = dataclasses.field(default_factory=lambda: [1, 2, 3])
    # Seeds of the sanitizer builds; None = the same as `seeds`. A sanitized run costs 2-5
    # times a plain one, and the interleaving a seed picks does not depend on the build.
    sanitizer_seeds: list = None
    cases: list = None  # fnmatch patterns; None = every rubric case
    jobs: int = 0  # parallel test processes; 0 = number of CPUs
    timeout: float = 60.0  # seconds per plain run (sanitizer builds get more)
    stop_case_on_failure: bool = True
    output_cap: int = 256 * 1024

    def seeds_for(self, build):
        if build != "plain" and self.sanitizer_seeds is not None:
            return self.sanitizer_seeds
        return self.seeds

    def describe_seeds(self):
        return "; ".join("%s seeds %s" % (b, " ".join(str(x) for x in self.seeds_for(b)))
                         for b in self.builds)


@dataclasses.dataclass
class Run:
    case: str
    build: str
    seed: int
    verdict: classify.Verdict = None
    result: sandbox.RunResult = None
    replay: str = ""
    skipped: bool = False  # not run: an earlier run of the case had already failed
    attempts: int = 0  # > 1 when the sanitizer runtime failed and the run was repeated


@dataclasses.dataclass
class CaseResult:
    case: labspec.Case
    runs: list  # [Run] in run order
    build_error: str = ""  # set when a build failed: the case could not run

    @property
    def ran(self):
        return [r for r in self.runs if not r.skipped and r.verdict is not None]

    @property
    def failures(self):
        return [r for r in self.ran if not r.verdict.passed]

    @property
    def passed(self):
        return not self.build_error and bool(self.ran) and not self.failures

    @property
    def score(self):
        return self.case.points if self.passed else 0.0

    @property
    def kinds(self):
        if self.build_error:
            return ["build"]
        out = []
        for r in self.failures:
            for k in r.verdict.kinds:
                if k not in out:
                    out.append(k)
        return out


@dataclasses.dataclass
class GradeResult:
    lab: labspec.Lab
    submission: str  # the folder graded
    files: dict  # editable file -> where it came from
    ignored: list  # files in the folder that are not editable files
    missing: list  # editable files the submission lacks
    builds: list  # [bazel.BuildResult]
    cases: list  # [CaseResult]
    options: Options
    execution_time: float = 0.0
    notes: list = dataclasses.field(default_factory=list)

    @property
    def score(self):
        return sum(c.score for c in self.cases)

    @property
    def max_score(self):
        return sum(c.case.points for c in self.cases)

    @property
    def build_failed(self):
        return bool(self.missing) or any(not b.ok for b in self.builds)


class SubmissionError(Exception):
    """The submission folder cannot be graded at all (does not exist)."""


def _read_regular_file(path):
    """The bytes of path if it is a regular file (not a symlink) of at most MAX_FILE_BYTES."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def _apply_to_solution(lab, name, patch_path, patch):
    """The solution's editable file `name` with a known-bad submission's patch applied."""
    solution = os.path.join(lab.solution_folder, name)
    try:
        with open(solution, encoding="utf-8", newline="") as f:
            original = f.read()
        text = apply_patch.apply(original, patch.decode("utf-8"), name=name,
                                 patch_name=patch_path, file_name=solution)
    except (OSError, UnicodeDecodeError, apply_patch.PatchError) as e:
        raise SubmissionError("cannot apply %s to the solution: %s" % (patch_path, e))
    return text.encode("utf-8")


def collect_submission(lab, folder):
    """Reads lab's editable files from folder (or folder/labs/<lab>/, a whole checkout).

    Returns (files {name: bytes}, origins {name: path}, ignored [relative paths], missing [names]).
    Symlinks are refused (a submission could otherwise make the grader read any file).

    A known-bad submission (a folder of this repository's grading/<lab>/bad/) holds
    `<file>.patch` instead of an editable file: the file is then the solution's with that
    unified diff applied (apply_patch.py), in memory: nothing is written beside the submission
    or into the working tree. A patch that does not apply raises SubmissionError. Anywhere else a
    .patch is just an ignored file (a student's empty patch must not earn the solution's score).
    """
    if not os.path.isdir(folder):
        raise SubmissionError("submission folder %s does not exist" % folder)
    bad_root = os.path.join(os.path.realpath(lab.grading_folder), "bad") + os.sep
    known_bad = os.path.realpath(folder).startswith(bad_root)
    roots = [folder, os.path.join(folder, "labs", lab.name)]
    files, origins, missing, used = {}, {}, [], set()
    for name in lab.editable:
        for root in roots:
            path = os.path.join(root, name)
            data = _read_regular_file(path)
            if data is not None:
                files[name] = data
                origins[name] = path
                used.add(os.path.realpath(path))
                break
        else:
            patch_path = os.path.join(folder, name + ".patch")
            patch = _read_regular_file(patch_path) if known_bad else None
            if patch is None:
                missing.append(name)
                continue
            files[name] = _apply_to_solution(lab, name, patch_path, patch)
            origins[name] = "%s + %s" % (os.path.join(lab.solution_folder, name), patch_path)
            used.add(os.path.realpath(patch_path))
    ignored = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.startswith("bazel-")
                         and not os.path.islink(os.path.join(root, d)))
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.realpath(p) not in used:
                ignored.append(os.path.relpath(p, folder))
    return files, origins, ignored, missing


def list_cases(box, binary, rundir):
    """The Suite.Test names in a gtest binary (--gtest_list_tests, run in the sandbox: static
    constructors of the submission run too)."""
    env = dict(BASE_ENV, HOME=rundir, TMPDIR=rundir, TEST_TMPDIR=rundir)
    res = box.run([binary, "--gtest_list_tests"], env, sandbox.Limits(timeout=60), cwd=rundir)
    names, suite = [], None
    for line in res.output.splitlines():
        if not line.strip() or line.startswith("Running main"):
            continue
        if not line.startswith(" "):
            suite = line.split("#")[0].strip().rstrip(".")
        elif suite:
            names.append("%s.%s" % (suite, line.split("#")[0].strip()))
    return names


class Grader:
    """Grades submissions of labs in one repository (one Bazel output base, one sandbox)."""

    def __init__(self, repo, builder=None, ui=None, sandbox_root=None):
        self.repo = repo
        self.builder = builder or bazel_mod.Builder(repo)
        self.ui = ui
        self.sandbox_root = sandbox_root

    def _say(self, what, *args):
        if self.ui is not None:
            getattr(self.ui, what)(*args)

    def grade(self, lab, folder, options, folder_label=None):
        start = time.monotonic()
        folder = os.path.abspath(folder)
        files, origins, ignored, missing = collect_submission(lab, folder)
        selected = [c for c in lab.cases
                    if options.cases is None
                    or any(fnmatch.fnmatchcase(c.name, p) for p in options.cases)]
        result = GradeResult(lab=lab, submission=folder_label or folder, files=origins,
                             ignored=ignored, missing=missing, builds=[], cases=[],
                             options=options)
        if missing:
            msg = "the submission has no %s (looked in %s and %s/labs/%s)" % (
                ", ".join(missing), folder, folder, lab.name)
            result.cases = [CaseResult(case=c, runs=[], build_error=msg) for c in selected]
            result.execution_time = time.monotonic() - start
            return result

        self.builder.write_submission(lab.name, files)
        result.builds = self.build_all(lab, options.builds)
        failed = [b.build for b in result.builds if not b.ok]
        if failed:
            msg = "the %s build failed; see the compiler output above" % " and ".join(failed)
            result.cases = [CaseResult(case=c, runs=[], build_error=msg) for c in selected]
            result.execution_time = time.monotonic() - start
            return result

        self.run_cases(lab, folder, {b.build: b.binary for b in result.builds}, options,
                       selected, result)
        result.execution_time = time.monotonic() - start
        return result

    def build_all(self, lab, builds):
        """Builds the hidden tests in every build flavour at once (one output base each)."""
        lock = threading.Lock()

        def one(b):
            with lock:
                self._say("build_start", b)

            def progress(d, t):
                with lock:
                    self._say("build_progress", b, d, t)

            br = self.builder.build(lab.name, b, on_progress=progress)
            with lock:
                self._say("build_done", br)
            return br

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(builds)) as pool:
            return list(pool.map(one, builds))

    def grade_prebuilt(self, lab, binaries, options, folder, folder_label=None):
        """Like grade(), for hidden-test binaries already built ({build: path}); `folder` is
        the submission folder the replay commands name."""
        start = time.monotonic()
        selected = [c for c in lab.cases
                    if options.cases is None
                    or any(fnmatch.fnmatchcase(c.name, p) for p in options.cases)]
        result = GradeResult(lab=lab, submission=folder_label or folder, files={}, ignored=[],
                             missing=[], builds=[], cases=[], options=options)
        self.run_cases(lab, folder, binaries, options, selected, result)
        result.execution_time = time.monotonic() - start
        return result

    def run_cases(self, lab, folder, binaries, options, selected, result):
        """Runs the selected cases of the binaries ({build: path}) into result.cases."""
        jobs = options.jobs or os.cpu_count() or 1
        root = tempfile.mkdtemp(prefix="go-course-grade.", dir=self.sandbox_root)
        try:
            box = sandbox.Sandbox(root, slots=jobs)
            result.notes.append(box.describe())
            binaries = self._stage_binaries(binaries, root)
            present = set(list_cases(box, binaries[options.builds[0]], box.make_run_dir(0)))
            for c in lab.cases:
                if c.name not in present:
                    result.notes.append("rubric case %s is not in the hidden tests" % c.name)
            extra = sorted(present - {c.name for c in lab.cases})
            if extra and options.cases is None:
                result.notes.append("hidden tests not in the rubric (not graded): " +
                                    ", ".join(extra))
            result.cases = self._run_matrix(lab, folder, selected, binaries, box, options, jobs)
            retried = [r for c in result.cases for r in c.runs if r.attempts > 1]
            if retried:
                result.notes.append(
                    "%d run(s) were repeated because the sanitizer's runtime itself failed "
                    "(%s); %d of them then passed" % (
                        len(retried), ", ".join(sorted({"%s %s seed %d" % (r.case, r.build, r.seed)
                                                        for r in retried})[:5]),
                        sum(1 for r in retried if r.verdict.passed)))
        finally:
            sandbox.remove_tree(root)

    def _stage_binaries(self, binaries, root):
        """Copies each hidden test binary where the sandbox user can read and run it."""
        staged = {}
        bindir = os.path.join(root, "bin")
        os.makedirs(bindir)
        os.chmod(bindir, 0o755)
        for build, path in binaries.items():
            dst = os.path.join(bindir, "hidden_test_" + build)
            shutil.copyfile(path, dst)
            os.chmod(dst, 0o755)
            staged[build] = dst
        return staged

    def replay_command(self, lab, folder, run):
        grade = "./course grade %s --submission %s --case %s --builds %s --seeds %d" % (
            lab.name, shlex.quote(folder), run.case, run.build, run.seed)
        env = dict(BUILD_ENV[run.build])
        env["GO_SYNCTEST_SEED"] = str(run.seed)
        direct = "%s %s --gtest_filter=%s" % (
            " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env.items())),
            shlex.quote(self.builder.binary_path(lab.name, run.build)), run.case)
        return "%s\n  (or, until the next grading run: %s)" % (grade, direct)

    def _run_matrix(self, lab, folder, cases, binaries, box, options, jobs):
        runs = [Run(case=c.name, build=b, seed=s)
                for b in options.builds for s in options.seeds_for(b) for c in cases]
        by_case = {c.name: CaseResult(case=c, runs=[]) for c in cases}
        for r in runs:
            by_case[r.case].runs.append(r)
        failed = set()
        lock = threading.Lock()
        slots = list(range(jobs))
        done_count = [0]
        self._say("runs_start", len(runs))

        def one(run):
            with lock:
                if options.stop_case_on_failure and run.case in failed:
                    run.skipped = True
                    done_count[0] += 1
                    self._say("run_done", run, done_count[0], len(runs))
                    return
                slot = slots.pop()
            try:
                limit = options.timeout * (1 if run.build == "plain" else SANITIZER_TIME_FACTOR)
                env = dict(BASE_ENV)
                env.update(BUILD_ENV[run.build])
                env["GO_SYNCTEST_SEED"] = str(run.seed)
                argv = [binaries[run.build], "--gtest_filter=" + run.case, "--gtest_color=no"]
                for attempt in range(1 + INFRASTRUCTURE_RETRIES):
                    rundir = box.make_run_dir(slot)
                    env.update({"HOME": rundir, "TMPDIR": rundir, "TEST_TMPDIR": rundir})
                    res = box.run(argv, env, sandbox.Limits(timeout=limit,
                                                            output_cap=options.output_cap),
                                  slot=slot, cwd=rundir)
                    sandbox.remove_tree(rundir)
                    run.result = res
                    run.verdict = classify.classify(res, run.case)
                    run.attempts = attempt + 1
                    if not run.verdict.infrastructure:
                        break
                if not run.verdict.passed:
                    run.replay = self.replay_command(lab, folder, run)
            finally:
                with lock:
                    slots.append(slot)
                    if run.verdict is not None and not run.verdict.passed:
                        failed.add(run.case)
                    done_count[0] += 1
                    self._say("run_done", run, done_count[0], len(runs))

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for f in [pool.submit(one, r) for r in runs]:
                f.result()
        self._say("runs_done")
        return [by_case[c.name] for c in cases]
