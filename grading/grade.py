#!/usr/bin/env python3
"""./course grade <lab> [--submission DIR] [--results FILE]: grade a lab submission.

Builds the lab's hidden tests against the lab's editable files taken from DIR (default: the
working tree's labs/<lab>), runs every graded case in its own sandboxed process in the plain,
TSan and ASan+UBSan builds under several scheduler seeds, prints a table, and writes
Gradescope's results.json and a JUnit XML file. Exit status 0 whenever grading ran, whatever
the score (a submission that does not compile scores 0); 2 for a usage error; 1 when the
grader itself could not work (e.g. Bazel is missing).

Python 3 standard library only. The pieces live in grading/gradelib/ (see docs/grading.md).
"""

import argparse
import os
import sys
import traceback

sys.dont_write_bytecode = True  # grading never writes into the working tree (no __pycache__)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gradelib import bazel as bazel_mod  # noqa: E402
from gradelib import engine, labspec, report  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _csv(text, conv=str):
    return [conv(x) for x in text.replace(",", " ").split()]


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="./course grade",
        description="Grade a lab: hidden tests x {plain, tsan, asan} builds x scheduler seeds.",
        epilog="Example: ./course grade listdir --submission ~/hw/listdir --results out/results.json")
    p.add_argument("lab", help="the lab to grade (a folder of labs/)")
    p.add_argument("--submission", metavar="DIR",
                   help="folder holding the lab's editable files, or a whole checkout "
                        "(default: labs/<lab> in this working tree)")
    p.add_argument("--results", metavar="FILE",
                   help="where to write Gradescope's results.json "
                        "(default: ~/.cache/go-course/results/<lab>/results.json)")
    p.add_argument("--junit", metavar="FILE",
                   help="where to write JUnit XML (default: junit.xml beside results.json; "
                        "'-' for none)")
    p.add_argument("--builds", default="plain,tsan,asan",
                   help="builds to test in, comma-separated (default: plain,tsan,asan)")
    p.add_argument("--seeds",
                   help="scheduler seeds (GO_SYNCTEST_SEED), comma-separated (default: 1,2,3 in "
                        "the plain build, 1,2 in the sanitizer builds; given, it applies to all)")
    p.add_argument("--sanitizer-seeds",
                   help="seeds for the tsan and asan builds (default: --seeds if given, else 1,2)")
    p.add_argument("--case", action="append", metavar="PATTERN",
                   help="grade only cases matching this glob (repeatable), e.g. 'WaitTimeout.*'")
    p.add_argument("--jobs", type=int, default=0,
                   help="test processes at once (default: number of CPUs)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per test process in the plain build; sanitizer builds get "
                        "%dx (default: 60)" % engine.SANITIZER_TIME_FACTOR)
    p.add_argument("--all-runs", action="store_true",
                   help="keep running a case after one of its runs failed (slower; shows every "
                        "failing build and seed)")
    p.add_argument("--output-base", metavar="DIR",
                   help="Bazel output base for grading (default: "
                        "~/.cache/go-course/grade/<hash of this tree's path>/output-base)")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.add_argument("--list", action="store_true", help="list the lab's graded cases and exit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    labs = labspec.list_labs(REPO)
    if args.lab not in labs and not (args.lab.startswith("_") and
                                     os.path.isdir(os.path.join(REPO, "labs", args.lab))):
        print("grade: unknown lab %r (labs: %s)" % (args.lab, " ".join(labs)), file=sys.stderr)
        return 2
    try:
        lab = labspec.load_lab(REPO, args.lab)
    except labspec.SpecError as e:
        print("grade: %s" % e, file=sys.stderr)
        return 1
    if args.list:
        for c in lab.cases:
            print("%4s  %-50s %s" % (report._fmt_points(c.points), c.name, c.description))
        return 0
    try:
        builds = _csv(args.builds)
        seeds = _csv(args.seeds, int) if args.seeds else [1, 2, 3]
        san_seeds = (_csv(args.sanitizer_seeds, int) if args.sanitizer_seeds
                     else None if args.seeds else [1, 2])
    except ValueError:
        print("grade: --seeds takes integers", file=sys.stderr)
        return 2
    unknown = [b for b in builds if b not in labspec.BUILDS]
    if unknown or not builds or not seeds or san_seeds == []:
        print("grade: --builds must be among %s; --seeds must not be empty" %
              ",".join(labspec.BUILDS), file=sys.stderr)
        return 2
    folder = args.submission or os.path.join(REPO, "labs", lab.name)
    if not os.path.isdir(folder):
        print("grade: submission folder %s does not exist" % folder, file=sys.stderr)
        return 2
    results = args.results or os.path.join(bazel_mod.default_cache_dir(), "results", lab.name,
                                           "results.json")
    junit = None if args.junit == "-" else (
        args.junit or os.path.join(os.path.dirname(os.path.abspath(results)), "junit.xml"))

    console = report.Console(quiet=args.quiet)
    options = engine.Options(builds=builds, seeds=seeds, sanitizer_seeds=san_seeds,
                             cases=args.case, jobs=args.jobs,
                             timeout=args.timeout, stop_case_on_failure=not args.all_runs)
    builder = bazel_mod.Builder(REPO, output_base=args.output_base)
    builder.lock(on_wait=lambda: console.say("waiting for another grading run to finish ..."))
    grader = engine.Grader(REPO, builder=builder, ui=console)
    try:
        result = grader.grade(lab, folder, options,
                              folder_label=os.path.relpath(folder) if not args.submission
                              else args.submission)
    except engine.SubmissionError as e:
        print("grade: %s" % e, file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print("grade: %s (is Bazel installed? try ./course setup)" % e, file=sys.stderr)
        return 1
    if result.options.cases is not None and not result.cases:
        print("grade: no case matches %s (./course grade %s --list)" %
              (" ".join(args.case), lab.name), file=sys.stderr)
        return 2
    console.say("")
    print(report.table(result))
    report.write_results(result, results, junit)
    print("\nwrote %s%s" % (results, " and %s" % junit if junit else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # a bug in the grader: say so plainly, never hang or pretend
        traceback.print_exc()
        print("grade: internal error (a bug in the grader, not in the submission)",
              file=sys.stderr)
        sys.exit(1)
