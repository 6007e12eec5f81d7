"""Tests of the grader's pieces that need no Bazel: sandbox, classification, rubric and
manifest parsing, submission collection, results.json and JUnit output.

Run: bazel test //grading:grader_test   (or: python3 grading/grader_test.py)
The end-to-end checks (build and grade every lab's solution, skeleton and bad submissions)
are grading/selfcheck.py, which `./course test` runs.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gradelib import bazel as bazel_mod  # noqa: E402
from gradelib import classify, engine, labspec, report, sandbox  # noqa: E402

# A Python the sandbox's unprivileged user can run (not one under /root, e.g. pyenv's).
PY = shutil.which("python3", path="/usr/bin:/bin:/usr/local/bin") or sys.executable


class SandboxTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="sandbox_test.")
        self.box = sandbox.Sandbox(os.path.join(self.root, "box"), slots=1)

    def tearDown(self):
        sandbox.remove_tree(self.root)

    def run_py(self, code, timeout=20.0, cap=64 * 1024, nproc=64):
        env = {"PATH": "/usr/bin:/bin"}
        d = self.box.make_run_dir(0)
        return self.box.run([PY, "-c", code], env, sandbox.Limits(
            timeout=timeout, output_cap=cap, nproc=nproc), cwd=d)

    def test_exit_status_and_output(self):
        r = self.run_py("import sys; print('hello'); sys.exit(3)")
        self.assertEqual(r.returncode, 3)
        self.assertFalse(r.timed_out)
        self.assertIn("hello", r.output)

    def test_timeout_kills_the_process_and_children_that_left_its_group(self):
        code = ("import os, time\n"
                "if os.fork() == 0:\n"
                "    os.setsid()\n"
                "    time.sleep(1000)\n"
                "time.sleep(1000)\n")
        start = time.monotonic()
        r = self.run_py(code, timeout=1.5)
        self.assertTrue(r.timed_out)
        self.assertLess(time.monotonic() - start, 15)
        if self.box.isolated:
            self.assertEqual(sandbox._pids_of_uid(self.box.uids[0]), [])

    def test_fork_bomb_is_contained(self):
        code = ("import os, time\n"
                "n = 0\n"
                "while True:\n"
                "    try:\n"
                "        if os.fork() == 0:\n"
                "            time.sleep(1000)\n"
                "        n += 1\n"
                "    except OSError:\n"
                "        print('fork refused after', n, flush=True); break\n"
                "time.sleep(1000)\n")
        start = time.monotonic()
        r = self.run_py(code, timeout=3, nproc=50)
        self.assertTrue(r.timed_out)
        self.assertLess(time.monotonic() - start, 20)
        if self.box.isolated:
            self.assertIn("fork refused", r.output)
            self.assertEqual(sandbox._pids_of_uid(self.box.uids[0]), [])

    def test_huge_output_is_capped_keeping_head_and_tail(self):
        code = ("import sys\n"
                "sys.stdout.write('FIRST\\n')\n"
                "block = 'x' * 65535 + '\\n'\n"
                "for _ in range(800): sys.stdout.write(block)\n"  # ~50 MB
                "sys.stdout.write('LAST\\n')\n")
        r = self.run_py(code, cap=32 * 1024)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.truncated)
        self.assertGreater(r.output_bytes, 50_000_000)
        self.assertLess(len(r.output), 40 * 1024)
        self.assertTrue(r.output.startswith("FIRST"))
        self.assertIn("LAST", r.output[-100:])
        self.assertIn("bytes of output omitted", r.output)

    def test_crash_reports_the_signal(self):
        r = self.run_py("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
        self.assertEqual(r.signal, signal.SIGSEGV)
        v = classify.classify(r, "A.B")
        self.assertEqual(v.kind, "crash")
        self.assertIn("SIGSEGV", v.summary)

    def test_missing_program_is_a_result_not_an_exception(self):
        d = self.box.make_run_dir(0)
        r = self.box.run(["/nonexistent/binary"], {}, sandbox.Limits(timeout=5), cwd=d)
        self.assertNotEqual(r.returncode, 0)

    def test_capped_output_small_stream_is_kept_whole(self):
        c = sandbox.CappedOutput(100)
        for chunk in (b"abc", b"def"):
            c.add(chunk)
        self.assertEqual(c.text(), "abcdef")
        self.assertFalse(c.truncated)


def _result(output, rc=0, timed_out=False):
    return sandbox.RunResult(returncode=rc, timed_out=timed_out, output=output,
                             output_bytes=len(output), truncated=False, duration=1.0, user="u")


GTEST_OK = ("[==========] Running 1 test from 1 test suite.\n[ RUN      ] S.T\n"
            "[       OK ] S.T (3 ms)\n[  PASSED  ] 1 test.\n")


class ClassifyTest(unittest.TestCase):
    def test_pass(self):
        v = classify.classify(_result(GTEST_OK), "S.T")
        self.assertTrue(v.passed)

    def test_skip_passes(self):
        out = "[ RUN      ] S.T\nx.cc:3: Skipped\nroot\n[  SKIPPED ] S.T (0 ms)\n"
        v = classify.classify(_result(out), "S.T")
        self.assertTrue(v.passed)
        self.assertTrue(v.skipped)

    def test_assertion(self):
        out = ("[ RUN      ] S.T\ngrading/x/hidden_test.cc:12: Failure\nExpected equality of "
               "these values:\n  a\n    Which is: 1\n\n[  FAILED  ] S.T (1 ms)\n")
        v = classify.classify(_result(out, rc=1), "S.T")
        self.assertEqual(v.kinds, ["assertion"])
        self.assertIn("Expected equality", v.summary)
        self.assertIn("Which is: 1", v.excerpt)

    def test_leak_outranks_assertion_and_shows_both(self):
        out = ("[ RUN      ] S.T\nh.cc:1: Failure\nValue of: ok\n\n[  FAILED  ] S.T\n"
               "LEAKED GOROUTINES: S.T left 1 goroutine(s) running\n")
        v = classify.classify(_result(out, rc=1), "S.T")
        self.assertEqual(v.kinds, ["leaked goroutine", "assertion"])
        self.assertIn("Value of: ok", v.excerpt)

    def test_sanitizers(self):
        asan = ("[ RUN      ] S.T\n=================================================================\n"
                "==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc\n"
                "    #0 0x4 in go::sync::WaitGroup::Wait()\n"
                "SUMMARY: AddressSanitizer: heap-use-after-free waitgroup.cc:10 in Wait\n")
        v = classify.classify(_result(asan, rc=1), "S.T")
        self.assertEqual(v.kind, "sanitizer")
        self.assertIn("heap-use-after-free", v.summary)
        tsan = "WARNING: ThreadSanitizer: data race (pid=1)\n  Write of size 4\n"
        self.assertEqual(classify.classify(_result(tsan, rc=66), "S.T").kind, "sanitizer")
        ubsan = "x.cc:3:5: runtime error: signed integer overflow\n"
        self.assertEqual(classify.classify(_result(ubsan, rc=1), "S.T").kind, "sanitizer")

    def test_sanitizer_runtime_failure_is_an_error_to_retry(self):
        out = ("[ RUN      ] S.T\nThreadSanitizer: CHECK failed: tsan_rtl_proc.cpp:47 "
               "\"((thr->proc1)) == ((nullptr))\" (0x7f, 0x0) (tid=1)\n")
        v = classify.classify(_result(out, rc=-11), "S.T")
        self.assertEqual(v.kind, "error")
        self.assertTrue(v.infrastructure)

    def test_timeout_is_headline(self):
        v = classify.classify(_result("[ RUN      ] S.T\n", rc=-9, timed_out=True), "S.T")
        self.assertEqual(v.kind, "timeout")

    def test_panic_and_deadlock(self):
        out = "[ RUN      ] S.T\npanic: send on closed channel\n\ngoroutine 1 [running]:\n"
        v = classify.classify(_result(out, rc=2), "S.T")
        self.assertEqual(v.kind, "crash")
        self.assertIn("send on closed channel", v.summary)
        out = ("[ RUN      ] S.T\nunknown file: Failure\nC++ exception with description "
               "\"deadlock: all goroutines in bubble are blocked (seed 3)\" thrown in the test body.\n"
               "[  FAILED  ] S.T\n")
        self.assertEqual(classify.classify(_result(out, rc=1), "S.T").kind, "deadlock")

    def test_runtime_leak_check_and_deadlock_detector(self):
        out = ("[ RUN      ] S.T\n[       OK ] S.T (1 ms)\nx.cc:1: Failure\nFailed\n"
               "goroutine leak: goroutines started by S.T are still running 1s after it "
               "returned:\n\ngoroutine 7 [chan send]:\n")
        v = classify.classify(_result(out, rc=1), "S.T")
        self.assertEqual(v.kind, "leaked goroutine")
        self.assertIn("goroutine 7 [chan send]", v.excerpt)
        out = "[ RUN      ] S.T\nfatal error: all goroutines are asleep - deadlock!\n"
        self.assertEqual(classify.classify(_result(out, rc=2), "S.T").kind, "deadlock")

    def test_case_missing_from_binary_is_an_error(self):
        out = "[==========] Running 0 tests from 0 test suites.\n[  PASSED  ] 0 tests.\n"
        self.assertEqual(classify.classify(_result(out), "S.T").kind, "error")

    def test_nonzero_exit_without_reason_is_a_crash(self):
        v = classify.classify(_result(GTEST_OK, rc=3), "S.T")
        self.assertEqual(v.kind, "crash")


class SpecTest(unittest.TestCase):
    def test_rubric(self):
        cases = labspec.parse_rubric("# points case description\n\n"
                                     "10 A.B  Does a thing # with a hash\n2.5 A.C Other\n")
        self.assertEqual([(c.name, c.points) for c in cases], [("A.B", 10), ("A.C", 2.5)])
        self.assertEqual(cases[0].description, "Does a thing # with a hash")
        for bad in ("x A.B d", "1 AB d", "1 A.B", "0 A.B d", "1 A.B d\n1 A.B e", ""):
            with self.assertRaises(labspec.SpecError, msg=bad):
                labspec.parse_rubric(bad)

    def test_manifest(self):
        m = labspec.parse_manifest("about: leaks\nabout: more\nfail: A.B leaked goroutine\n"
                                   "fail: A.C\nbuilds: plain asan\nseeds: 4\n")
        self.assertEqual(m.about, "leaks more")
        self.assertEqual(m.must_fail, [("A.B", "leaked goroutine"), ("A.C", None)])
        self.assertEqual(m.builds, ["plain", "asan"])
        self.assertEqual(m.seeds, [4])
        for bad in ("fail: A.B\n", "about: x\n", "about: x\nfail: A.B nonsense\n",
                    "about: x\nfail: A.B\nbuilds: msan\n", "about: x\nfoo: y\n"):
            with self.assertRaises(labspec.SpecError, msg=bad):
                labspec.parse_manifest(bad)

    def test_lab_call_is_read_without_bazel(self):
        text = ('load("//bazel:lab.bzl", "lab")\n\nlab(\n    name = "x",\n    hdrs = ["x.h"],\n'
                '    editable = ["x.cc"],\n    public_tests = ["public_test.cc"],\n'
                '    deps = ["//runtime:go"],\n)\n')
        self.assertEqual(labspec._lab_call(text, "BUILD")["editable"], ["x.cc"])
        with self.assertRaises(labspec.SpecError):
            labspec._lab_call('lab(name = "x", hdrs = HDRS)', "BUILD")


def _fake_lab():
    return labspec.Lab(name="demo", repo="/nonexistent", hdrs=["demo.h"], editable=["demo.cc"],
                       public_tests=["public_test.cc"], bad_submissions=[],
                       cases=[labspec.Case("S.Pass", 3, "Passes."),
                              labspec.Case("S.Leak", 7, "Stops its goroutine.")])


def _fake_result():
    lab = _fake_lab()
    opts = engine.Options(builds=["plain", "asan"], seeds=[1, 2])
    ok = classify.classify(_result(GTEST_OK.replace("S.T", "S.Pass")), "S.Pass")
    leak_out = "[ RUN      ] S.Leak\n\x1b[0mLEAKED GOROUTINES: S.Leak left 1 goroutine(s)\n"
    leak = classify.classify(_result(leak_out, rc=1), "S.Leak")
    runs_pass = [engine.Run("S.Pass", b, s, verdict=ok, result=_result(GTEST_OK))
                 for b in opts.builds for s in opts.seeds]
    runs_leak = [engine.Run("S.Leak", "plain", 1, verdict=leak, result=_result(leak_out, 1),
                            replay="./course grade demo --case S.Leak")]
    runs_leak += [engine.Run("S.Leak", b, s, skipped=True)
                  for b, s in (("plain", 2), ("asan", 1), ("asan", 2))]
    return engine.GradeResult(
        lab=lab, submission="sub/", files={"demo.cc": "sub/demo.cc"}, ignored=["notes.txt"],
        missing=[], builds=[], options=opts, execution_time=12.5,
        cases=[engine.CaseResult(lab.cases[0], runs_pass), engine.CaseResult(lab.cases[1], runs_leak)])


class ReportTest(unittest.TestCase):
    def test_results_json_has_gradescope_fields(self):
        data = json.loads(json.dumps(report.gradescope(_fake_result())))
        self.assertEqual(data["score"], 3)
        self.assertIsInstance(data["execution_time"], (int, float))
        self.assertIsInstance(data["output"], str)
        self.assertIn("notes.txt", data["output"])  # ignored files are listed
        self.assertEqual(len(data["tests"]), 2)
        for t in data["tests"]:
            for field, typ in (("name", str), ("score", (int, float)), ("max_score", (int, float)),
                               ("output", str), ("visibility", str), ("status", str)):
                self.assertIsInstance(t[field], typ, field)
            self.assertIn(t["visibility"], ("hidden", "after_due_date", "after_published",
                                            "visible"))
            self.assertIn(t["status"], ("passed", "failed"))
            self.assertLessEqual(t["score"], t["max_score"])
        leak = data["tests"][1]
        self.assertEqual((leak["status"], leak["score"], leak["max_score"]), ("failed", 0, 7))
        self.assertIn("Stops its goroutine.", leak["name"])
        self.assertIn("leaked goroutine", leak["output"])
        self.assertIn("./course grade demo --case S.Leak", leak["output"])

    def test_junit_is_valid_xml(self):
        root = ET.fromstring(report.junit(_fake_result()))
        suite = root.find("testsuite")
        self.assertEqual(suite.get("tests"), "2")
        self.assertEqual(suite.get("failures"), "1")
        cases = suite.findall("testcase")
        self.assertEqual([c.get("name") for c in cases], ["Pass", "Leak"])
        self.assertIsNone(cases[0].find("failure"))
        self.assertEqual(cases[1].find("failure").get("type"), "leaked goroutine")

    def test_table(self):
        text = report.table(_fake_result())
        self.assertIn("Score: 3 / 10", text)
        self.assertIn("LEAK", text)
        self.assertIn("replay: ./course grade demo --case S.Leak", text)

    def test_build_failure_scores_zero(self):
        r = _fake_result()
        r.builds = [bazel_mod.BuildResult("plain", False, "demo.cc:3: error: expected ';'", "", 1.0)]
        for c in r.cases:
            c.build_error = "the plain build failed"
        data = report.gradescope(r)
        self.assertEqual(data["score"], 0)
        self.assertIn("expected ';'", data["output"])
        ET.fromstring(report.junit(r))


class OutSymlinkFlagsTest(unittest.TestCase):
    """The grader keeps Bazel from repointing the working tree's bazel-out (Bazel 4-7)."""

    def flags_for(self, version_line):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        fake = os.path.join(d, "bazel")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho '%s'\n" % version_line)
        os.chmod(fake, 0o755)
        bazel_mod._OUT_SYMLINK_FLAGS = None
        self.addCleanup(setattr, bazel_mod, "_OUT_SYMLINK_FLAGS", None)
        return bazel_mod.out_symlink_flags(fake)

    def test_debian_bazel_4_without_a_version_gets_the_flag(self):
        self.assertEqual(self.flags_for("bazel no_version"),
                         ["--experimental_no_product_name_out_symlink"])

    def test_bazel_6_and_7_get_it(self):
        self.assertEqual(self.flags_for("bazel 6.4.0"),
                         ["--experimental_no_product_name_out_symlink"])
        self.assertEqual(self.flags_for("bazel 7.1.1"),
                         ["--experimental_no_product_name_out_symlink"])

    def test_bazel_8_does_not(self):
        self.assertEqual(self.flags_for("bazel 8.0.0"), [])


class SubmissionTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="submission_test.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, rel, text):
        p = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def test_takes_only_editable_files_and_lists_the_rest(self):
        self.write("demo.cc", "int x;")
        self.write("demo.h", "changed header")
        self.write("notes/readme.txt", "hi")
        files, origins, ignored, missing = engine.collect_submission(_fake_lab(), self.dir)
        self.assertEqual(files, {"demo.cc": b"int x;"})
        self.assertEqual(sorted(ignored), ["demo.h", "notes/readme.txt"])
        self.assertEqual(missing, [])

    def test_whole_checkout_layout(self):
        self.write("labs/demo/demo.cc", "int y;")
        files, _, _, missing = engine.collect_submission(_fake_lab(), self.dir)
        self.assertEqual(files, {"demo.cc": b"int y;"})

    def test_symlinks_are_refused(self):
        os.symlink("/etc/passwd", os.path.join(self.dir, "demo.cc"))
        files, _, _, missing = engine.collect_submission(_fake_lab(), self.dir)
        self.assertEqual(files, {})
        self.assertEqual(missing, ["demo.cc"])

    def known_bad_lab(self, patch):
        """A lab in self.dir with a solution and the known-bad submission bad/b1 (a patch)."""
        lab = _fake_lab()
        lab.repo = self.dir
        self.write("solutions/demo/demo.cc", "int f() {\n  return 1;\n}\n")
        self.write("grading/demo/bad/b1/MANIFEST", "about: x\nfail: S.Pass\n")
        self.write("grading/demo/bad/b1/demo.cc.patch", patch)
        return lab, os.path.join(self.dir, "grading", "demo", "bad", "b1")

    BUG = ("--- a/demo.cc\n+++ b/demo.cc\n@@ -1,3 +1,3 @@\n int f() {\n-  return 1;\n"
           "+  return 2;  // BUG\n }\n")

    def test_known_bad_patch_is_applied_to_the_solution_in_memory(self):
        lab, folder = self.known_bad_lab(self.BUG)
        before = sorted(os.listdir(folder))
        files, origins, ignored, missing = engine.collect_submission(lab, folder)
        self.assertEqual(files, {"demo.cc": b"int f() {\n  return 2;  // BUG\n}\n"})
        self.assertIn("demo.cc.patch", origins["demo.cc"])
        self.assertEqual((ignored, missing), (["MANIFEST"], []))
        self.assertEqual(sorted(os.listdir(folder)), before)  # nothing written beside it

    def test_known_bad_patch_that_does_not_apply_is_an_error(self):
        lab, folder = self.known_bad_lab(self.BUG.replace("return 1", "return 7"))
        with self.assertRaisesRegex(engine.SubmissionError, r"demo.cc.patch:5: hunk 1"):
            engine.collect_submission(lab, folder)

    def test_a_patch_outside_the_known_bad_folders_is_not_applied(self):
        lab, _ = self.known_bad_lab(self.BUG)
        self.write("student/demo.cc.patch", "")  # an empty patch would be the solution itself
        files, _, ignored, missing = engine.collect_submission(lab, os.path.join(self.dir,
                                                                                 "student"))
        self.assertEqual((files, ignored, missing), ({}, ["demo.cc.patch"], ["demo.cc"]))

    def test_generated_repository(self):
        b = bazel_mod.Builder("/repo", cache_dir=self.dir)
        d = b.write_submission("demo", {"demo.cc": b"int a;", "extra.cc": b"int b;"})
        with open(os.path.join(d, "BUILD.bazel")) as f:
            build = f.read()
        self.assertIn('lab_submission(', build)
        self.assertIn('"demo.cc", "extra.cc"', build)
        b.write_submission("demo", {"demo.cc": b"int c;"})
        self.assertFalse(os.path.exists(os.path.join(d, "extra.cc")))
        with open(os.path.join(d, "demo.cc")) as f:
            self.assertEqual(f.read(), "int c;")
        cmd = b.command("demo", "asan")
        self.assertIn("--config=asan", cmd)
        self.assertIn("--override_repository=lab_demo_submission=" + d, cmd)
        self.assertTrue(any(c.startswith("--symlink_prefix=" + self.dir) for c in cmd))


if __name__ == "__main__":
    unittest.main()
