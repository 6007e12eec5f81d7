"""Tests of gradelib/apply_patch.py, the strict unified-diff applier that turns a known-bad
submission (grading/<lab>/bad/<name>/<file>.patch) into source: solution + patch.

Run: bazel test //grading:apply_patch_test   (or: python3 grading/apply_patch_test.py)
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gradelib import apply_patch  # noqa: E402

# A 20-line file: line N reads "line N".
ORIGINAL = "".join("line %d\n" % n for n in range(1, 21))


def diff_u(old, new, name="x.cc"):
    """What `diff -u` prints for old -> new (the real tool, as an instructor would run it)."""
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        for path, text in ((a, old), (b, new)):
            with open(path, "w") as f:
                f.write(text)
        r = subprocess.run(["diff", "-u", "--label", "a/" + name, "--label", "b/" + name, a, b],
                           stdout=subprocess.PIPE, universal_newlines=True)
        assert r.returncode in (0, 1), r
        return r.stdout


def edit(text, replacements):
    lines = text.splitlines(keepends=True)
    for n, new in sorted(replacements.items(), reverse=True):
        lines[n - 1:n] = new
    return "".join(lines)


class ApplyTest(unittest.TestCase):
    def test_applies_a_one_hunk_patch_cleanly(self):
        patch = ("--- a/x.cc\n+++ b/x.cc\n@@ -4,3 +4,4 @@\n line 4\n-line 5\n+bug 5\n"
                 "+// BUG: why\n line 6\n")
        out = apply_patch.apply(ORIGINAL, patch, name="x.cc")
        self.assertEqual(out, edit(ORIGINAL, {5: ["bug 5\n", "// BUG: why\n"]}))

    def test_applies_several_hunks_in_order(self):
        bad = edit(ORIGINAL, {2: ["changed 2\n"], 10: [], 18: ["18a\n", "18b\n"]})
        patch = diff_u(ORIGINAL, bad)
        self.assertEqual(patch.count("\n@@ "), 3, patch)
        self.assertEqual(apply_patch.apply(ORIGINAL, patch, name="x.cc"), bad)

    def test_pure_insertion_and_deletion_at_the_ends(self):
        for bad in ("first\n" + ORIGINAL, ORIGINAL + "last\n", ORIGINAL[len("line 1\n"):],
                    ORIGINAL.rstrip("\n")):
            self.assertEqual(apply_patch.apply(ORIGINAL, diff_u(ORIGINAL, bad)), bad)

    def test_empty_patch_leaves_the_file_unchanged(self):
        self.assertEqual(apply_patch.apply(ORIGINAL, "", name="x.cc"), ORIGINAL)

    def test_a_hunk_that_does_not_match_fails_naming_both_lines(self):
        patch = "--- a/x.cc\n+++ b/x.cc\n@@ -4,3 +4,3 @@\n line 4\n-line five\n+bug\n line 6\n"
        with self.assertRaises(apply_patch.PatchError) as e:
            apply_patch.apply(ORIGINAL, patch, patch_name="bad/p/x.cc.patch",
                              file_name="solutions/l/x.cc")
        msg = str(e.exception)
        self.assertIn("bad/p/x.cc.patch:5:", msg)  # the patch line that disagrees
        self.assertIn("hunk 1 (@@ -4,3 +4,3 @@) does not apply", msg)
        self.assertIn("solutions/l/x.cc:5", msg)  # and where in the file it was looked for
        self.assertIn("'line five\\n'", msg)
        self.assertIn("'line 5\\n'", msg)

    def test_no_fuzz_one_wrong_context_line_is_enough(self):
        patch = "--- a/x.cc\n+++ b/x.cc\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+bug\n line  6\n"
        with self.assertRaises(apply_patch.PatchError) as e:
            apply_patch.apply(ORIGINAL, patch)
        self.assertIn("patch:7:", str(e.exception))  # the " line  6" context line

    def test_second_hunk_failing_fails_the_whole_patch(self):
        patch = diff_u(ORIGINAL, edit(ORIGINAL, {3: ["x\n"], 15: ["y\n"]}))
        drifted = ORIGINAL.replace("line 16\n", "line sixteen\n")
        with self.assertRaisesRegex(apply_patch.PatchError, r"hunk 2 .*does not apply"):
            apply_patch.apply(drifted, patch)

    def test_a_hunk_applies_at_an_offset_when_lines_were_added_above(self):
        bad = edit(ORIGINAL, {12: ["bug 12\n"]})
        patch = diff_u(ORIGINAL, bad)
        grown = "new 0\nnew 0b\n" + ORIGINAL
        self.assertEqual(apply_patch.apply(grown, patch), "new 0\nnew 0b\n" + bad)

    def test_hunk_counts_must_match_its_body(self):
        patch = "--- a/x.cc\n+++ b/x.cc\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+bug\n"
        with self.assertRaisesRegex(apply_patch.PatchError, r"promises 3 old and 3 new lines"):
            apply_patch.apply(ORIGINAL, patch)

    def test_the_patch_must_name_the_file(self):
        patch = diff_u(ORIGINAL, edit(ORIGINAL, {3: ["x\n"]}), name="other.cc")
        with self.assertRaisesRegex(apply_patch.PatchError, r"for 'other.cc', not 'x.cc'"):
            apply_patch.apply(ORIGINAL, patch, name="x.cc")

    def test_not_a_unified_diff(self):
        for text in ("just text\n", "3c3\n< line 3\n---\n> x\n"):
            with self.assertRaises(apply_patch.PatchError, msg=text):
                apply_patch.apply(ORIGINAL, text)

    def test_one_file_per_patch(self):
        one = diff_u(ORIGINAL, edit(ORIGINAL, {3: ["x\n"]}))
        with self.assertRaisesRegex(apply_patch.PatchError, r"a second file"):
            apply_patch.apply(ORIGINAL, one + one)

    def test_empty_context_line_without_its_space_and_missing_final_newline(self):
        original = "a\n\nb\nc"
        patch = ("--- a/x.cc\n+++ b/x.cc\n@@ -1,4 +1,4 @@\n a\n\n b\n-c\n"
                 "\\ No newline at end of file\n+d\n")
        self.assertEqual(apply_patch.apply(original, patch), "a\n\nb\nd\n")

    def test_command_line_writes_the_output_and_fails_loudly(self):
        with tempfile.TemporaryDirectory() as d:
            src, patch, out = (os.path.join(d, n) for n in ("x.cc", "x.cc.patch", "out.cc"))
            with open(src, "w") as f:
                f.write(ORIGINAL)
            bad = edit(ORIGINAL, {7: ["bug\n"]})
            with open(patch, "w") as f:
                f.write(diff_u(ORIGINAL, bad))
            tool = apply_patch.__file__
            r = subprocess.run([sys.executable, "-B", tool, src, patch, out],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
            self.assertEqual(r.returncode, 0, r.stdout)
            with open(out) as f:
                self.assertEqual(f.read(), bad)
            with open(src, "w") as f:
                f.write(ORIGINAL.replace("line 7\n", "line seven\n"))
            r = subprocess.run([sys.executable, "-B", tool, src, patch, out],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("apply_patch: %s:" % patch, r.stdout)
            self.assertIn("%s:7" % src, r.stdout)


if __name__ == "__main__":
    unittest.main()
