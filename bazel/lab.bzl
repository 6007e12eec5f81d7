"""lab(): the one macro that declares a graded lab. See docs/authoring-labs.md.

A lab is a folder labs/<name>/ whose BUILD.bazel is exactly

    load("//bazel:lab.bzl", "lab")

    lab(
        name = "listdir",
        hdrs = ["listdir.h"],                 # the API the tests call (students read, never edit)
        editable = ["listdir.cc"],            # the files a student may edit (the skeleton)
        public_tests = ["public_test.cc"],    # visible tests: `bazel test //labs/listdir/...`
        deps = ["//runtime:go", ...],         # what the header and the editable files use
        bad_submissions = ["leaky_ctx", ...], # grading/<name>/bad/<each>/ (see below)
        good_submissions = ["pool", ...],     # grading/<name>/good/<each>/ (see below)
    )

plus files found by convention in other folders (no BUILD file needed there; //solutions and
//grading export them):

    solutions/<name>/<each editable file>     the reference answer
    grading/<name>/hidden_test.cc             hidden tests (gtest), one TEST per graded case
    grading/<name>/rubric.txt                 points and a one-line description per case
    grading/<name>/bad/<bad>/MANIFEST         a known-bad submission: the hidden cases it must
                                              fail, plus
    grading/<name>/bad/<bad>/<file>.patch     for each editable file, its bug as a unified diff
                                              (`diff -u`, headers a/<file> b/<file>) against
                                              solutions/<name>/<file>; empty if the bug is
                                              elsewhere
    grading/<name>/good/<good>/<each editable file>
                                              another correct answer, written independently of
                                              the solution (another design, other idioms): it
                                              must score full marks too, which keeps the hidden
                                              tests from demanding the solution's own choices

Targets the macro declares in labs/<name>:

    :api                  cc_library: the header(s) and deps. Public: submissions build on it.
    :<name>               cc_library: the editable files as they are in this folder.
    :public_test          the public tests against :<name> (what students run).
    --- instructor edition only (INSTRUCTOR_EDITION below) ---
    :solution             cc_library: solutions/<name>/ against the same header.
    :public_test_solution the public tests against the solution.
    :hidden_test_solution the hidden tests against the solution.
    :hidden_test          the hidden tests against @lab_<name>_submission//:impl, the repository
                          ./course grade generates from a submission (tag "manual": it exists
                          only while the grader passes --override_repository).
    :bad_<bad>_srcs       genrule: the known-bad submission's editable files, solution + patch
                          (grading/gradelib/apply_patch.py; a hunk that does not apply fails the
                          build, naming the patch line and the solution line).
    :bad_<bad>_hidden_test  the hidden tests against each known-bad submission ("manual"; the
                          self-check builds them all at once).
    :good_<good>_hidden_test  the hidden tests against each other correct answer ("manual").
    :public_tests, :hidden_tests  the test sources, compiled once against the header alone.
    :grading_files        filegroup: rubric, hidden tests, bad submissions (for export tools).

Why :public_test is "manual" in the instructor edition: the skeleton must fail every test (the
grading self-check asserts it scores 0), so `bazel test //...` in this repository would always
fail. Instructors run the public tests against the solution instead (:public_test_solution);
`bazel test //labs/<name>:public_test` still runs them against the skeleton on request. In the
student repository (INSTRUCTOR_EDITION = False, set by the export) it is a plain test, so
`bazel test //labs/<name>/...` is exactly what a student runs.

Why hidden tests link their submission through an external repository: the grader writes the
submission's editable files (nothing else) and a generated BUILD that calls lab_submission()
into a folder outside the working tree, then builds :hidden_test with
`--override_repository=lab_<name>_submission=<folder>`. The working tree is never touched and
Bazel's action cache makes a regrade after a one-file change cost one compile and one link.
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")
load("//bazel:copts.bzl", "GO_COPTS", "GO_TEST_COPTS")

# True in this repository (solutions and hidden tests exist). The student export sets it to
# False: then lab() declares only :api, :<name> and :public_test, and nothing refers to
# //solutions or //grading, which the student repository does not contain.
INSTRUCTOR_EDITION = True

# The gtest main every lab test links: gtest plus the runtime's goroutine leak check after each
# test (a test whose goroutines outlive it fails, with a dump of them) and synctest replay
# hints (a failed test that ran a bubble prints its seed and the command that replays it).
LAB_TEST_MAIN = "//runtime/testing:gtest_main"

# Test helpers shared by public and hidden tests (temp trees, bounded waits, leak checks).
LAB_TESTING = "//labs/_testing:lab_testing"

# Applies a known-bad submission's patch to the solution (stdlib Python; the grader imports the
# same module). Run with python3 rather than as a py_binary: Bazel 4's Python stub needs a
# `python` on PATH, which Debian does not have.
APPLY_PATCH = "//grading:gradelib/apply_patch.py"

# Submissions are compiled with the project's warnings but never fail on one: a correct answer
# with an unused variable still earns its points. (The skeleton and the solution are held to
# -Werror through :<name> and :solution.)
SUBMISSION_COPTS = GO_COPTS + ["-Wno-error"]

def _submission_repo(name):
    # "lab_" first: a repository name must start with a letter, and lab names may not
    # (labs/_template).
    return "lab_%s_submission" % name

def _hidden_test_of(name, srcs, size):
    """The hidden tests linked with a stored submission's editable files (a known-bad or an
    other correct one), compiled like a student's ("manual": the self-check builds them)."""
    cc_test(
        name = name,
        size = size,
        srcs = srcs,
        copts = SUBMISSION_COPTS,
        linkstatic = True,
        deps = [":hidden_tests", ":api"],
        tags = ["manual"],
    )

def lab(
        name,
        hdrs,
        editable,
        public_tests,
        deps = [],
        test_deps = [],
        bad_submissions = [],
        good_submissions = [],
        public_test_size = "small",
        hidden_test_size = "medium"):
    """Declares the lab `name` (see the file comment for the targets and conventions).

    Args:
      name: the lab's name; equals the folder name labs/<name>.
      hdrs: header files of the lab's API, in this folder.
      editable: the files a student may edit (and the grader takes from a submission).
      public_tests: gtest sources of the public tests.
      deps: libraries the header and the editable files use (e.g. "//runtime:go", abseil).
      test_deps: extra libraries the public and hidden tests use.
      bad_submissions: names of folders grading/<name>/bad/<each>/ (known-bad submissions).
      good_submissions: names of folders grading/<name>/good/<each>/ (other correct answers).
      public_test_size: Bazel size of the public test targets.
      hidden_test_size: Bazel size of the hidden test targets.
    """
    if native.package_name() != "labs/" + name:
        fail("lab(name = %r) must be declared in labs/%s/BUILD.bazel, not in %s" %
             (name, name, native.package_name()))

    cc_library(
        name = "api",
        hdrs = hdrs,
        copts = GO_COPTS,
        deps = deps,
        visibility = ["//visibility:public"],
    )

    cc_library(
        name = name,
        srcs = editable,
        copts = GO_COPTS,
        deps = [":api"],
        visibility = ["//visibility:public"],
    )

    all_test_deps = [LAB_TESTING, LAB_TEST_MAIN] + test_deps

    # Test sources are compiled once, in libraries that need only the header; each test binary
    # then links one implementation. (alwayslink: gtest registers TESTs from static
    # initializers, which the linker would otherwise drop.) The grader, the self-check and
    # `bazel test` thereby share the compiled tests, across output bases too (disk cache).
    cc_library(
        name = "public_tests",
        testonly = True,
        srcs = public_tests,
        copts = GO_TEST_COPTS,
        deps = [":api"] + all_test_deps,
        alwayslink = True,
    )

    cc_test(
        name = "public_test",
        size = public_test_size,
        deps = [":public_tests", ":" + name],
        tags = ["manual"] if INSTRUCTOR_EDITION else [],
    )

    if not INSTRUCTOR_EDITION:
        return

    cc_library(
        name = "solution",
        srcs = ["//solutions:%s/%s" % (name, f) for f in editable],
        copts = GO_COPTS,
        deps = [":api"],
        visibility = ["//grading:__subpackages__", "//tests:__subpackages__"],
    )

    cc_test(
        name = "public_test_solution",
        size = public_test_size,
        deps = [":public_tests", ":solution"],
    )

    hidden_srcs = ["//grading:%s/hidden_test.cc" % name]
    cc_library(
        name = "hidden_tests",
        testonly = True,
        srcs = hidden_srcs,
        copts = GO_TEST_COPTS,
        deps = [":api"] + all_test_deps,
        alwayslink = True,
    )

    # linkstatic: the grader copies the binaries out of bazel-bin into its sandbox folder, so
    # they must not depend on Bazel's _solib_ tree.
    cc_test(
        name = "hidden_test_solution",
        size = hidden_test_size,
        linkstatic = True,
        deps = [":hidden_tests", ":solution"],
    )

    cc_test(
        name = "hidden_test",
        size = hidden_test_size,
        linkstatic = True,
        deps = [":hidden_tests", "@%s//:impl" % _submission_repo(name)],
        tags = ["manual"],
    )

    # Each known-bad submission linked with the hidden tests, for the self-check
    # (grading/selfcheck.py builds them all in one Bazel command). Compiled like a submission,
    # from bad/<bad>/<file> in this package: the solution with the bad submission's patch applied.
    for bad in bad_submissions:
        outs = ["bad/%s/%s" % (bad, f) for f in editable]
        native.genrule(
            name = "bad_%s_srcs" % bad,
            srcs = ["//solutions:%s/%s" % (name, f) for f in editable] +
                   ["//grading:%s/bad/%s/%s.patch" % (name, bad, f) for f in editable],
            outs = outs,
            tools = [APPLY_PATCH],
            cmd = " && ".join([
                "python3 -B $(location %s) --name %s $(location //solutions:%s/%s) "
                % (APPLY_PATCH, f, name, f) +
                "$(location //grading:%s/bad/%s/%s.patch) $(location %s)" % (name, bad, f, out)
                for f, out in zip(editable, outs)
            ]),
            # Not "manual": `bazel build //...` applies every patch, so a solution edit that
            # breaks one fails there, naming the hunk, not only in the self-check.
        )
        _hidden_test_of(
            name = "bad_%s_hidden_test" % bad,
            srcs = outs,
            size = hidden_test_size,
        )

    # Each other correct answer linked with the hidden tests: the self-check requires full
    # marks from it in every build, as from the solution.
    for good in good_submissions:
        _hidden_test_of(
            name = "good_%s_hidden_test" % good,
            srcs = ["//grading:%s/good/%s/%s" % (name, good, f) for f in editable],
            size = hidden_test_size,
        )

    native.filegroup(
        name = "grading_files",
        srcs = hidden_srcs + ["//grading:%s/rubric.txt" % name] + [
            "//grading:%s/bad/%s/%s" % (name, bad, f)
            for bad in bad_submissions
            for f in [e + ".patch" for e in editable] + ["MANIFEST"]
        ] + [
            "//grading:%s/good/%s/%s" % (name, good, f)
            for good in good_submissions
            for f in editable
        ],
        visibility = ["//grading:__subpackages__"],
    )

def lab_submission(lab, srcs):
    """The BUILD of a generated submission repository (written by grading/grade.py).

    Declares :impl, the submission's editable files compiled against the lab's header. Labels
    name the main repository explicitly (@//) because this runs inside @lab_<lab>_submission.

    Args:
      lab: the lab's name.
      srcs: the submission's editable files, copied into the generated repository.
    """
    cc_library(
        name = "impl",
        srcs = srcs,
        copts = SUBMISSION_COPTS,
        deps = ["@//labs/%s:api" % lab],
        visibility = ["//visibility:public"],
    )
