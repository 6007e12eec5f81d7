#!/usr/bin/env python3
"""Grading self-checks: do the labs grade the way they claim? (Part of `./course test`.)

For every lab (labs/<lab>/ with a lab() call, the template included):

  solution   solutions/<lab>/ must score full marks in every build (plain, tsan, asan) and
             seed of the grader's default matrix: the hidden tests accept a correct answer,
             under every sanitizer.
  skeleton   labs/<lab>/ as shipped must score 0 (plain build, one seed): every graded case
             really tests something the student has to write. Graded through ./course
             grade's own path (generated repository, --override_repository).
  bad/<b>    each known-bad submission must fail every case its MANIFEST names (with the
             failure kind it names, if any), in the builds and seeds the manifest gives
             (default: plain; seeds 1 2). Only the named cases run. A known-bad submission is
             a patch against the solution (<editable file>.patch), applied by lab()'s genrule.
  good/<g>   each other correct answer (full editable files, written independently of the
             solution) must score full marks like the solution: the hidden tests accept
             other designs, not only the solution's.

Solutions and known-bad submissions are built through targets the lab() macro declares
(:hidden_test_solution, :bad_<b>_hidden_test, :good_<g>_hidden_test), all of one build flavour in one Bazel command,
which compiles them in parallel and shares the compiled objects with `bazel test //...`.
  layout     the lab() call's bad_submissions list matches grading/<lab>/bad/, each of those
             holds exactly MANIFEST and one <editable file>.patch per editable file, manifests
             parse, and every rubric case exists in the hidden tests; good_submissions matches
             grading/<lab>/good/, each holding exactly the editable files.

Prints one PASS/FAIL line per check and ends with "selfcheck: N passed, M failed" (which
./course test adds to its totals); exit status 1 if anything failed.

  python3 grading/selfcheck.py [--lab NAME]... [--quick]

--quick grades solutions in the plain build only (for a fast local loop; CI runs it all).
"""

import argparse
import concurrent.futures
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
    expected = sorted(["MANIFEST"] + [f + ".patch" for f in lab.editable])
    for b in folders:
        # Bazel builds the patches (lab() ignores anything else); the grader would take a full
        # copy of an editable file over its patch: a stale copy would test something else.
        present = sorted(os.listdir(os.path.join(bad_dir, b)))
        if present != expected:
            tally.check(False, "%s: layout: bad/%s holds %s" % (lab.name, b, " ".join(expected)),
                        "found: %s" % " ".join(present))
        path = os.path.join(bad_dir, b, "MANIFEST")
        try:
            with open(path) as f:
                manifests[b] = labspec.parse_manifest(f.read(), path, lab)
        except (OSError, labspec.SpecError) as e:
            tally.check(False, "%s: layout: bad/%s/MANIFEST" % (lab.name, b), str(e))
    good_dir = os.path.join(lab.grading_folder, "good")
    folders = sorted(os.listdir(good_dir)) if os.path.isdir(good_dir) else []
    declared = sorted(lab.good_submissions)
    if folders or declared:
        tally.check(folders == declared, "%s: layout: good_submissions in labs/%s/BUILD.bazel "
                    "match grading/%s/good/" % (lab.name, lab.name, lab.name),
                    "" if folders == declared else "declared %s, folders %s" % (declared, folders))
    for g in folders:
        present = sorted(os.listdir(os.path.join(good_dir, g)))
        if present != sorted(lab.editable):
            tally.check(False, "%s: layout: good/%s holds %s" % (lab.name, g, " ".join(lab.editable)),
                        "found: %s" % " ".join(present))
    return manifests


def grade(grader, lab, folder, options, label):
    start = time.monotonic()
    result = grader.grade(lab, folder, options, folder_label=label)
    return result, time.monotonic() - start


def build_failure(result):
    return report.build_summary(result) or "; ".join(result.missing) or "build failed"


def check_bad(grader, lab, b, m, binaries, tally):
    """Grades known-bad submission b (prebuilt binaries) on its named cases."""
    cases = [c for c, _ in m.must_fail]
    start = time.monotonic()
    result = grader.grade_prebuilt(lab, binaries, engine.Options(builds=m.builds, seeds=m.seeds,
                                                                 cases=cases),
                                   os.path.join(lab.grading_folder, "bad", b),
                                   folder_label="grading/%s/bad/%s" % (lab.name, b))
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
        "\n".join(problems) if problems else "%.1f s" % secs)


def check_full_marks(grader, lab, what, folder, label, binaries, build_errors, builds, tally):
    """Grades a correct answer (prebuilt binaries): it must score full marks everywhere."""
    name = lab.name
    if (name, what) in build_errors:
        tally.check(False, "%s: %s builds" % (name, what),
                    report._cap(build_errors[(name, what)], 4000))
        return
    start = time.monotonic()
    # The grader's default matrix (plain seeds 1 2 3, sanitizers 1 2).
    options = engine.Options(builds=builds, seeds=[1, 2, 3], sanitizer_seeds=[1, 2])
    result = grader.grade_prebuilt(lab, binaries[(name, what)], options, folder, label)
    if what == "solution":
        notes = [n for n in result.notes if "rubric case" in n or "not in the rubric" in n]
        tally.check(not notes, "%s: layout: rubric and hidden tests agree" % name,
                    "\n".join(notes))
    bad = failing_cases(result)
    detail = "\n".join("%s: %s\n%s" % (c.case.name, ", ".join(c.kinds),
                                       report.failure_details(c, limit=1500))
                       for c in bad)
    tally.check(not bad, "%s: %s scores %s/%s (%s)" % (
        name, what, report._fmt_points(result.score), report._fmt_points(result.max_score),
        options.describe_seeds()), detail or "%.0f s" % (time.monotonic() - start))


def main(argv=None):
    p = argparse.ArgumentParser(prog="grading/selfcheck.py", description=__doc__.split("\n")[0])
    p.add_argument("--lab", action="append", help="check only this lab (repeatable)")
    p.add_argument("--quick", action="store_true", help="solutions in the plain build only")
    p.add_argument("--output-base", help="Bazel output base (default: the grader's)")
    args = p.parse_args(argv)

    tally = Tally()
    builder = bazel_mod.Builder(REPO, output_base=args.output_base)
    builder.lock(on_wait=lambda: print("selfcheck: waiting for a grading run to finish ...", flush=True))
    grader = engine.Grader(REPO, builder=builder, ui=report.Console(quiet=True))
    started = time.monotonic()
    sol_builds = ["plain"] if args.quick else list(labspec.BUILDS)

    labs, manifests = [], {}
    for name in args.lab or all_labs():
        try:
            lab = labspec.load_lab(REPO, name)
        except labspec.SpecError as e:
            tally.check(False, "%s: lab spec" % name, str(e))
            continue
        labs.append(lab)
        manifests[name] = check_layout(lab, tally)

    # 1. Build every solution and known-bad submission, one Bazel command per build flavour
    #    (Bazel compiles them in parallel): targets the lab() macro declares,
    #    //labs/<lab>:hidden_test_solution and //labs/<lab>:bad_<b>_hidden_test.
    wanted = {}  # build -> [(key, target)]
    for lab in labs:
        for build in sol_builds:
            wanted.setdefault(build, []).append(((lab.name, "solution"),
                                                 "//labs/%s:hidden_test_solution" % lab.name))
            for g in lab.good_submissions:
                wanted[build].append(((lab.name, "good/" + g),
                                      "//labs/%s:good_%s_hidden_test" % (lab.name, g)))
        for b, m in sorted(manifests[lab.name].items()):
            for build in m.builds:
                wanted.setdefault(build, []).append(((lab.name, b),
                                                     "//labs/%s:bad_%s_hidden_test" % (lab.name, b)))
    binaries = {}  # (lab, what) -> {build: path}
    build_errors = {}  # (lab, what) -> output

    def build_flavour(build):  # the flavours build at once, each in its own output base
        targets = [t for _, t in wanted[build]]
        return build, builder.build_targets(targets, build)

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(build_flavour, [b for b in labspec.BUILDS if b in wanted]))
    for build, br in built:
        print("built %d test binaries (%s) in %.0f s" % (len(wanted[build]), build, br.seconds),
              flush=True)
        for key, target in wanted[build]:
            one = br if br.ok else builder.build_targets([target], build)  # which one broke?
            if one.ok:
                binaries.setdefault(key, {})[build] = builder.target_binary(target, build)
            else:
                build_errors[key] = one.output

    for lab in labs:
        name = lab.name
        # 2. The solution, and every other correct answer: full marks in every build and seed.
        for what, folder, label in [("solution", lab.solution_folder, "solutions/%s" % name)] + [
                ("good/" + g, os.path.join(lab.grading_folder, "good", g),
                 "grading/%s/good/%s" % (name, g)) for g in lab.good_submissions]:
            check_full_marks(grader, lab, what, folder, label, binaries, build_errors, sol_builds,
                             tally)

        # 3. The skeleton scores zero. Graded through the grader's own path (the generated
        #    repository and --override_repository), exactly as a student's submission is.
        result, secs = grade(grader, lab, lab.folder, engine.Options(builds=["plain"], seeds=[1]),
                             "labs/%s" % name)
        if result.build_failed:
            tally.check(False, "%s: skeleton builds" % name, build_failure(result))
        else:
            passing = [c.case.name for c in result.cases if c.passed]
            tally.check(not passing, "%s: skeleton scores %s/%s (through ./course grade's path)" % (
                name, report._fmt_points(result.score), report._fmt_points(result.max_score)),
                "cases the unmodified skeleton passes: " + ", ".join(passing) if passing
                else "%.0f s" % secs)

        # 4. Each known-bad submission fails what its manifest names.
        for b, m in sorted(manifests[name].items()):
            if (name, b) in build_errors:
                tally.check(False, "%s: bad/%s builds" % (name, b),
                            report._cap(build_errors[(name, b)], 4000))
            else:
                check_bad(grader, lab, b, m, binaries[(name, b)], tally)

    print("\nselfcheck took %.0f s" % (time.monotonic() - started))
    if tally.failed:
        print("failed: " + ", ".join(tally.failed))
    print("selfcheck: %d passed, %d failed" % (tally.passed, len(tally.failed)))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
