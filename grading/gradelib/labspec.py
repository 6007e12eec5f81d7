"""What a lab is, read from the repository without running Bazel.

  load_lab(repo, name)   the lab() call in labs/<name>/BUILD.bazel (bazel/lab.bzl), parsed
                         with Python's ast: its arguments must be literals, which the
                         template and docs/authoring-labs.md ask for anyway
  parse_rubric(text)     grading/<name>/rubric.txt
  parse_manifest(text)   grading/<name>/bad/<bad>/MANIFEST

Rubric format (one graded case per line; lines starting with '#' are comments):

    # points  case                                  description shown to students
    10        ListDirectory.StreamsEveryEntryOnce   Streams each entry once, then closes.

Manifest format (a known-bad submission's promise):

    about: The listing goroutine ignores ctx, so it blocks on a send nobody receives.
    fail: ListDirectory.StopsOnceCancelled  leaked goroutine
    fail: ListDirectory.CancelledBeforeStart
    builds: plain asan

Each `fail:` names a hidden case the submission must fail, optionally followed by the failure
kind (grading/gradelib/classify.py) that at least one of its failing runs must show. `builds:`
(default: plain) says which builds the self-check runs it in. `seeds:` (default 1 2) likewise.
"""

import ast
import dataclasses
import os
import re

from . import classify

_CASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
BUILDS = ("plain", "tsan", "asan")


class SpecError(Exception):
    """A lab's BUILD, rubric or manifest is malformed."""


@dataclasses.dataclass
class Case:
    name: str  # gtest "Suite.Test"
    points: float
    description: str


@dataclasses.dataclass
class Lab:
    name: str
    repo: str  # repository root
    hdrs: list
    editable: list
    public_tests: list
    bad_submissions: list
    cases: list  # [Case], rubric order
    good_submissions: list = dataclasses.field(default_factory=list)

    @property
    def folder(self):
        return os.path.join(self.repo, "labs", self.name)

    @property
    def solution_folder(self):
        return os.path.join(self.repo, "solutions", self.name)

    @property
    def grading_folder(self):
        return os.path.join(self.repo, "grading", self.name)

    @property
    def max_score(self):
        return sum(c.points for c in self.cases)

    def case(self, name):
        for c in self.cases:
            if c.name == name:
                return c
        return None


@dataclasses.dataclass
class Manifest:
    about: str
    must_fail: list  # [(case, kind or None)]
    builds: list
    seeds: list


def list_labs(repo):
    """Names of the labs: folders of labs/ with a BUILD file, except _-prefixed helpers."""
    names = []
    labs = os.path.join(repo, "labs")
    for name in sorted(os.listdir(labs)):
        if name.startswith((".", "_")) or "template" in name:
            continue
        if any(os.path.isfile(os.path.join(labs, name, b)) for b in ("BUILD.bazel", "BUILD")):
            names.append(name)
    return names


def _lab_call(build_text, path):
    tree = ast.parse(build_text, filename=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "lab":
            args = {}
            for kw in node.keywords:
                try:
                    args[kw.arg] = ast.literal_eval(kw.value)
                except ValueError:
                    raise SpecError("%s: lab(%s = ...) must be a literal (a string or a list of "
                                    "strings) so the grader can read it" % (path, kw.arg))
            return args
    raise SpecError("%s has no lab(...) call (see docs/authoring-labs.md)" % path)


def load_lab(repo, name):
    build = None
    for b in ("BUILD.bazel", "BUILD"):
        p = os.path.join(repo, "labs", name, b)
        if os.path.isfile(p):
            build = p
            break
    if build is None:
        raise SpecError("labs/%s/BUILD.bazel does not exist" % name)
    with open(build) as f:
        args = _lab_call(f.read(), build)
    if args.get("name") != name:
        raise SpecError("%s: lab(name = %r) must equal the folder name %r" %
                        (build, args.get("name"), name))
    for key in ("hdrs", "editable", "public_tests"):
        if not isinstance(args.get(key), list) or not args[key]:
            raise SpecError("%s: lab(%s = [...]) is required" % (build, key))
    rubric_path = os.path.join(repo, "grading", name, "rubric.txt")
    if not os.path.isfile(rubric_path):
        raise SpecError("grading/%s/rubric.txt does not exist" % name)
    with open(rubric_path) as f:
        cases = parse_rubric(f.read(), rubric_path)
    return Lab(name=name, repo=repo, hdrs=args["hdrs"], editable=args["editable"],
               public_tests=args["public_tests"],
               bad_submissions=list(args.get("bad_submissions", [])), cases=cases,
               good_submissions=list(args.get("good_submissions", [])))


def parse_rubric(text, path="rubric.txt"):
    cases = []
    seen = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise SpecError("%s:%d: expected `points Suite.Case description`" % (path, n))
        points, name, description = parts
        try:
            pts = float(points)
        except ValueError:
            raise SpecError("%s:%d: points %r is not a number" % (path, n, points))
        if pts <= 0:
            raise SpecError("%s:%d: points must be positive" % (path, n))
        if not _CASE.match(name):
            raise SpecError("%s:%d: %r is not a gtest case name (Suite.Test)" % (path, n, name))
        if name in seen:
            raise SpecError("%s:%d: %s is listed twice" % (path, n, name))
        seen.add(name)
        cases.append(Case(name=name, points=pts, description=description.strip()))
    if not cases:
        raise SpecError("%s lists no case" % path)
    return cases


def parse_manifest(text, path="MANIFEST", lab=None):
    about = ""
    must_fail = []
    builds = ["plain"]
    seeds = [1, 2]
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise SpecError("%s:%d: expected `about:`, `fail:`, `builds:` or `seeds:`" % (path, n))
        key, value = key.strip(), value.strip()
        if key == "about":
            about = (about + " " + value).strip()
        elif key == "fail":
            parts = value.split(None, 1)
            if not parts:
                raise SpecError("%s:%d: fail: needs a case name" % (path, n))
            case = parts[0]
            kind = parts[1].strip() if len(parts) > 1 else None
            if kind is not None and kind not in classify.KINDS:
                raise SpecError("%s:%d: unknown failure kind %r (one of: %s)" %
                                (path, n, kind, ", ".join(classify.KINDS)))
            if lab is not None and lab.case(case) is None:
                raise SpecError("%s:%d: %s is not a case of the rubric" % (path, n, case))
            must_fail.append((case, kind))
        elif key == "builds":
            builds = value.split()
            bad = [b for b in builds if b not in BUILDS]
            if bad or not builds:
                raise SpecError("%s:%d: builds must be among %s" % (path, n, " ".join(BUILDS)))
        elif key == "seeds":
            try:
                seeds = [int(s) for s in value.split()]
            except ValueError:
                raise SpecError("%s:%d: seeds must be integers" % (path, n))
        else:
            raise SpecError("%s:%d: unknown key %r" % (path, n, key))
    if not about:
        raise SpecError("%s: `about:` (what is wrong with this submission) is required" % path)
    if not must_fail:
        raise SpecError("%s: name at least one case with `fail:`" % path)
    return Manifest(about=about, must_fail=must_fail, builds=builds, seeds=seeds)
