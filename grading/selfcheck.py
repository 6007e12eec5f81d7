#!/usr/bin/env python3
"""Grading self-checks: do the labs grade the way they claim? (Part of `./course test`.)

For every lab (labs/<lab>/ with a lab() call, the template included):

  solution   solutions/<lab>/ must score full marks in every build (plain, tsan, asan) and
             seed: the hidden tests accept a correct answer, under every sanitizer.
  skeleton   labs/<lab>/ as shipped must score 0 (plain build, one seed): every graded case
             really tests something the student has to write.
  bad/<b>    each known-bad submission must fail every case its MANIFEST names (with the
             failure kind it names, if any), in the builds and seeds the manifest gives
             (default: plain; seeds 1 2). Only the named cases run. All known-bad
             submissions of a build flavour are built in one Bazel command (in parallel).
  layout     the lab() call's bad_submissions list matches grading/<lab>/bad/, manifests parse,
             and every rubric case exists in the hidden tests.

Prints one PASS/FAIL line per check and ends with "selfcheck: N passed, M failed" (which
./course test adds to its totals); exit status 1 if anything failed.

  python3 grading/selfcheck.py [--lab NAME]... [--quick]

--quick grades solutions in the plain build only (for a fast local loop; CI runs it all).
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gradelib import bazel as bazel_mod  # noqa: E402
from gradelib import engine, labspec, report  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print("PASS  %s%s" % (name, ("  (%s)" % detail) if detail else ""), flush=True)
        else:
            self.failed.append(name)
            print("FAIL  %s" % name, flush=True)
            if detail:
                print("\n".join("      " + line for line in detail.splitlines()), flush=True)


def all_labs():
    labs = labspec.list_labs(REPO)
    template = os.path.join(REPO, "labs", "_template")
    if os.path.isdir(os.path.join(REPO, "grading", "_template")) and os.path.isdir(template):
        labs.append("_template")
    return labs


def failing_cases(result):
    return [c for c in result.cases if not c.passed]


def check_layout(lab, tally):
    bad_dir = os.path.join(lab.grading_folder, "bad")
    folders = sorted(d for d in os.listdir(bad_dir)) if os.path.isdir(bad_dir) else []
    declared = sorted(lab.bad_submissions)
    tally.check(folders == declared, "%s: layout: bad_submissions in labs/%s/BUILD.bazel match "
                "grading/%s/bad/" % (lab.name, lab.name, lab.name),
                "" if folders == declared else "declared %s, folders %s" % (declared, folders))
    manifests = {}
    for b in folders:
        path = os.path.join(bad_dir, b, "MANIFEST")
        try:
            with open(path) as f:
                manifests[b] = labspec.parse_manifest(f.read(), path, lab)
        except (OSError, labspec.SpecError) as e:
            tally.check(False, "%s: layout: bad/%s/MANIFEST" % (lab.name, b), str(e))
    return manifests


def grade(grader, lab, folder, options, label):
    start = time.monotonic()
    result = grader.grade(lab, folder, options, folder_label=label)
    return result, time.monotonic() - start


def build_failure(result):
    return report.build_summary(result) or "; ".join(result.missing) or "build failed"


def main(argv=None):
    p = argparse.ArgumentParser(prog="grading/selfcheck.py", description=__doc__.split("\n")[0])
    p.add_argument("--lab", action="append", help="check only this lab (repeatable)")
    p.add_argument("--quick", action="store_true", help="solutions in the plain build only")
    p.add_argument("--output-base", help="Bazel output base (default: the grader's)")
    args = p.parse_args(argv)

    tally = Tally()
    labs = args.lab or all_labs()
    builder = bazel_mod.Builder(REPO, output_base=args.output_base)
    builder.lock(on_wait=lambda: print("selfcheck: waiting for a grading run to finish ...", flush=True))
    console = report.Console(quiet=True)
    grader = engine.Grader(REPO, builder=builder, ui=console)
    started = time.monotonic()
    bad_checks = []  # (lab, bad, manifest)

    for name in labs:
        try:
            lab = labspec.load_lab(REPO, name)
        except labspec.SpecError as e:
            tally.check(False, "%s: lab spec" % name, str(e))
            continue
        manifests = check_layout(lab, tally)

        # Solution: full marks everywhere.
        sol_builds = ["plain"] if args.quick else list(labspec.BUILDS)
        result, secs = grade(grader, lab, lab.solution_folder,
                             engine.Options(builds=sol_builds, seeds=[1, 2, 3]),
                             "solutions/%s" % name)
        notes = [n for n in result.notes if "rubric case" in n or "not in the rubric" in n]
        tally.check(not notes, "%s: layout: rubric and hidden tests agree" % name, "\n".join(notes))
        if result.build_failed:
            tally.check(False, "%s: solution builds" % name, build_failure(result))
        else:
            bad = failing_cases(result)
            detail = "\n".join("%s: %s\n%s" % (c.case.name, ", ".join(c.kinds),
                                               report.failure_details(c, limit=1500))
                               for c in bad)
            tally.check(not bad, "%s: solution scores %s/%s (%s; seeds 1 2 3)" % (
                name, report._fmt_points(result.score), report._fmt_points(result.max_score),
                " ".join(sol_builds)), detail or "%.0f s" % secs)

        # Skeleton: zero.
        result, secs = grade(grader, lab, lab.folder, engine.Options(builds=["plain"], seeds=[1]),
                             "labs/%s" % name)
        if result.build_failed:
            tally.check(False, "%s: skeleton builds" % name, build_failure(result))
        else:
            passing = [c.case.name for c in result.cases if c.passed]
            tally.check(not passing, "%s: skeleton scores %s/%s" % (
                name, report._fmt_points(result.score), report._fmt_points(result.max_score)),
                "cases the unmodified skeleton passes: " + ", ".join(passing) if passing
                else "%.0f s" % secs)

        for b, m in sorted(manifests.items()):
            bad_checks.append((lab, b, m))

    # Known-bad submissions: each fails what its manifest names. They are built by Bazel
    # targets the lab() macro declares (//labs/<lab>:bad_<b>_hidden_test), all of a build
    # flavour in one command, which compiles them in parallel; the solution and skeleton above
    # went through the grader's own path (generated repository + --override_repository).
    binaries = {}  # (lab, bad, build) -> path, for the builds that succeeded
    build_errors = {}
    for build in labspec.BUILDS:
        wanted = [(lab, b) for lab, b, m in bad_checks if build in m.builds]
        if not wanted:
            continue
        targets = ["//labs/%s:bad_%s_hidden_test" % (lab.name, b) for lab, b in wanted]
        br = builder.build_targets(targets, build)
        print("built %d known-bad submission(s) (%s) in %.0f s" % (len(targets), build, br.seconds),
              flush=True)
        for (lab, b), target in zip(wanted, targets):
            one = br if br.ok else builder.build_targets([target], build)  # which one broke?
            if one.ok:
                binaries[(lab.name, b, build)] = builder.target_binary(target, build)
            else:
                build_errors[(lab.name, b)] = one.output
    for lab, b, m in bad_checks:
        label = "grading/%s/bad/%s" % (lab.name, b)
        if (lab.name, b) in build_errors:
            tally.check(False, "%s: bad/%s builds" % (lab.name, b),
                        report._cap(build_errors[(lab.name, b)], 4000))
            continue
        cases = [c for c, _ in m.must_fail]
        start = time.monotonic()
        result = grader.grade_prebuilt(
            lab, {build: binaries[(lab.name, b, build)] for build in m.builds},
            engine.Options(builds=m.builds, seeds=m.seeds, cases=cases),
            os.path.join(lab.grading_folder, "bad", b), folder_label=label)
        secs = time.monotonic() - start
        by_name = {c.case.name: c for c in result.cases}
        problems = []
        for case, kind in m.must_fail:
            cr = by_name.get(case)
            if cr is None or cr.passed:
                problems.append("%s passed, but the manifest says it must fail" % case)
            elif kind is not None and kind not in cr.kinds:
                problems.append("%s failed with %s, but the manifest expects %s\n%s" % (
                    case, ", ".join(cr.kinds), kind, report.failure_details(cr, limit=1500)))
        tally.check(not problems, "%s: bad/%s fails its %d named case(s) (%s)" % (
            lab.name, b, len(cases), " ".join(m.builds)),
            "\n".join(problems) if problems else "%.0f s" % secs)

    print("\nselfcheck took %.0f s" % (time.monotonic() - started))
    if tally.failed:
        print("failed: " + ", ".join(tally.failed))
    print("selfcheck: %d passed, %d failed" % (tally.passed, len(tally.failed)))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
