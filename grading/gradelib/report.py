"""What the grader shows and writes: live progress, the terminal table, results.json, JUnit.

  Console         progress while building and running (one rewritten line on a terminal,
                  plain lines in logs)
  table(result)   the final table and failure details, as text
  gradescope(result)   the results.json object (Gradescope's autograder format: top-level
                  score, execution_time, output, tests[] with name, score, max_score, output,
                  visibility, status); checked by grading/grader_test.py
  junit(result)   JUnit XML, one <testcase> per graded case, for CI systems
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET

from . import classify

# How much of one failure's output goes into results.json / the terminal.
EXCERPT_CHARS = 4000
BUILD_OUTPUT_CHARS = 20000


# Characters XML 1.0 forbids (test output may contain terminal escapes or binary junk).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text):
    return _XML_BAD.sub("?", text)


def _fmt_points(x):
    return ("%g" % x) if x == int(x) else ("%.1f" % x)


class Console:
    """Progress on a stream; rewrites one line when the stream is a terminal."""

    def __init__(self, stream=None, quiet=False):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self._last_pct = -1
        self._line_open = False

    def _line(self, text):
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self._line_open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _end_line(self):
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False

    def say(self, text):
        if self.quiet:
            return
        self._end_line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def build_start(self, build):
        self._line("building hidden tests (%s) ..." % build)

    def build_progress(self, build, done, total):
        if self.tty:
            self._line("building hidden tests (%s) ... %d/%d actions" % (build, done, total))

    def build_done(self, br):
        state = "ok" if br.ok else ("TIMED OUT" if br.timed_out else "FAILED")
        self._line("building hidden tests (%s) ... %s (%.0f s)" % (br.build, state, br.seconds))
        self._end_line()

    def runs_start(self, n):
        self._last_pct = -1
        self._line("running %d test processes ..." % n)

    def run_done(self, run, i, n):
        if run.verdict is not None and not run.verdict.passed:
            self.say("  %-6s %-5s seed %d  %s: %s" % (
                classify.SHORT[run.verdict.kind], run.build, run.seed, run.case,
                run.verdict.summary[:100]))
        pct = 100 * i // n
        if self.tty:
            self._line("[%3d/%d] %-5s seed %d  %s" % (i, n, run.build, run.seed, run.case))
        elif pct // 10 != self._last_pct // 10:
            self._line("  %3d%% of runs done (%d/%d)" % (pct, i, n))
        self._last_pct = pct

    def runs_done(self):
        self._end_line()


def _case_cell(cr, build):
    runs = [r for r in cr.runs if r.build == build]
    if cr.build_error:
        return "BUILD"
    ran = [r for r in runs if not r.skipped and r.verdict is not None]
    if not runs:
        return ""
    if not ran:
        return "-"
    bad = [r for r in ran if not r.verdict.passed]
    if bad:
        return classify.SHORT[bad[0].verdict.kind]
    return "skip" if all(r.verdict.skipped for r in ran) else "ok"


def _case_status(cr):
    if cr.passed:
        return "passed"
    if cr.build_error:
        return "build failed"
    return ", ".join(cr.kinds) or "not run"


def _indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def _cap(text, n):
    if len(text) <= n:
        return text
    return text[: n // 3] + "\n[... %d characters omitted ...]\n" % (len(text) - n) + text[-(2 * n // 3):]


def failure_details(cr, limit=EXCERPT_CHARS):
    """Text explaining why case cr failed: each distinct failure with its replay command."""
    if cr.build_error:
        return cr.build_error
    out = []
    seen = set()
    for r in cr.failures:
        key = (r.verdict.kind, r.verdict.summary)
        if key in seen:
            continue
        seen.add(key)
        out.append("%s build, seed %d: %s: %s" % (r.build, r.seed, r.verdict.kind,
                                                  r.verdict.summary))
        if r.verdict.excerpt:
            out.append(_indent(_cap(r.verdict.excerpt, limit)))
        if r.result is not None and r.result.truncated:
            out.append("    (output was %d bytes; the grader kept the start and the end)" %
                       r.result.output_bytes)
        out.append("  replay: " + r.replay)
    skipped = sum(1 for r in cr.runs if r.skipped)
    if skipped:
        out.append("(%d more run(s) of this case were skipped after the first failure)" % skipped)
    return "\n".join(out)


def build_summary(result):
    lines = []
    for b in result.builds:
        if not b.ok:
            lines.append("The %s build failed%s:" % (b.build, " (timed out)" if b.timed_out else ""))
            lines.append(_cap(b.output, BUILD_OUTPUT_CHARS))
    return "\n".join(lines)


def header(result):
    o = result.options
    lines = ["lab %s, submission %s" % (result.lab.name, result.submission)]
    for name, path in sorted(result.files.items()):
        lines.append("  graded file: %s (%s)" % (name, path))
    if result.missing:
        lines.append("  MISSING: %s" % ", ".join(result.missing))
    if result.ignored:
        shown = result.ignored[:30]
        more = len(result.ignored) - len(shown)
        lines.append("  ignored (not editable in this lab): %s%s" % (
            ", ".join(shown), " and %d more" % more if more > 0 else ""))
    lines.append("  runs: %s; %d case(s)" % (o.describe_seeds(), len(result.cases)))
    return "\n".join(lines)


def table(result):
    builds = result.options.builds
    name_w = max([len("Case")] + [len(c.case.name) for c in result.cases])
    pts_w = max(len("Points"), max([len("%s/%s" % (_fmt_points(c.score), _fmt_points(c.case.points)))
                                    for c in result.cases] or [0]))
    lines = [header(result), ""]
    if result.build_failed:
        lines += [build_summary(result) or "", ""]
    head = "%-*s  %*s  %s  %s" % (name_w, "Case", pts_w, "Points",
                                  "  ".join("%-6s" % b for b in builds), "Result")
    lines += [head, "-" * len(head)]
    for cr in result.cases:
        pts = "%s/%s" % (_fmt_points(cr.score), _fmt_points(cr.case.points))
        cells = "  ".join("%-6s" % _case_cell(cr, b) for b in builds)
        lines.append("%-*s  %*s  %s  %s" % (name_w, cr.case.name, pts_w, pts, cells,
                                           _case_status(cr)))
    lines.append("-" * len(head))
    lines.append("Score: %s / %s   (%.0f s)" % (_fmt_points(result.score),
                                               _fmt_points(result.max_score),
                                               result.execution_time))
    failed = [cr for cr in result.cases if not cr.passed and not cr.build_error]
    if failed:
        lines += ["", "Why cases failed (a case earns its points only if every run passes):"]
        for cr in failed:
            lines += ["", "%s (%s points): %s" % (cr.case.name, _fmt_points(cr.case.points),
                                                  cr.case.description),
                      _indent(failure_details(cr, limit=2500), "  ")]
    for n in result.notes:
        lines.append("note: " + n)
    return "\n".join(lines)


def gradescope(result):
    """The results.json object for Gradescope."""
    tests = []
    for i, cr in enumerate(result.cases, 1):
        runs = cr.ran
        if cr.passed:
            body = "Passed: %d run(s) (%s)." % (len(runs), result.options.describe_seeds())
            if any(r.verdict.skipped for r in runs):
                body += " Some runs skipped themselves (see the test's own message)."
        else:
            body = "Failed: %s.\n%s" % (_case_status(cr), failure_details(cr))
        tests.append({
            "name": "%s: %s" % (cr.case.name, cr.case.description),
            "number": str(i),
            "score": cr.score,
            "max_score": cr.case.points,
            "output": body,
            "visibility": "visible",
            "status": "passed" if cr.passed else "failed",
        })
    output = [header(result)]
    if result.build_failed:
        output.append(build_summary(result) or "")
    output.append("Score: %s / %s" % (_fmt_points(result.score), _fmt_points(result.max_score)))
    output += ["note: " + n for n in result.notes]
    return {
        "score": result.score,
        "execution_time": round(result.execution_time, 1),
        "output": "\n".join(output),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def junit(result):
    """JUnit XML (as bytes): a <testsuite> for the lab, a <testcase> per graded case."""
    suite = ET.Element("testsuite", {
        "name": "grade.%s" % result.lab.name,
        "tests": str(len(result.cases)),
        "failures": str(sum(1 for c in result.cases if not c.passed and not c.build_error)),
        "errors": str(sum(1 for c in result.cases if c.build_error)),
        "skipped": "0",
        "time": "%.3f" % result.execution_time,
    })
    props = ET.SubElement(suite, "properties")
    for k, v in (("score", _fmt_points(result.score)), ("max_score", _fmt_points(result.max_score)),
                 ("submission", result.submission)):
        ET.SubElement(props, "property", {"name": k, "value": _xml(v)})
    for cr in result.cases:
        suite_name, _, test = cr.case.name.partition(".")
        tc = ET.SubElement(suite, "testcase", {
            "classname": "%s.%s" % (result.lab.name, suite_name),
            "name": test,
            "time": "%.3f" % sum(r.result.duration for r in cr.ran if r.result is not None),
        })
        if cr.build_error:
            e = ET.SubElement(tc, "error", {"message": _xml(cr.build_error), "type": "build"})
            e.text = _xml(build_summary(result))
        elif not cr.passed:
            first = cr.failures[0] if cr.failures else None
            f = ET.SubElement(tc, "failure", {
                "message": _xml(first.verdict.summary) if first else "not run",
                "type": ", ".join(cr.kinds) or "not run",
            })
            f.text = _xml(failure_details(cr))
        out = ET.SubElement(tc, "system-out")
        out.text = _xml("%s\npoints: %s / %s" % (cr.case.description, _fmt_points(cr.score),
                                                  _fmt_points(cr.case.points)))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_file(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(tmp, mode) as f:
        f.write(data)
    os.replace(tmp, path)


def write_results(result, results_path, junit_path):
    write_file(results_path, json.dumps(gradescope(result), indent=2) + "\n")
    if junit_path:
        write_file(junit_path, junit(result))
