"""Why did a test run fail? Turns a sandbox.RunResult of one gtest case into a Verdict.

Kinds, in the order they are reported when several apply (the first is the headline):

  timeout           the process was still running at the time limit (scores zero)
  sanitizer         AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer /
                    ThreadSanitizer printed a report
  leaked goroutine  the test's goroutines outlived it ("goroutine leak:" from the runtime's
                    gtest main, //runtime/testing:gtest_main, or "LEAKED GOROUTINES:" from a
                    test's own check)
  deadlock          a synctest bubble, or the runtime's detector, found every goroutine
                    blocked for good
  crash             killed by a signal, a Go-style panic ("panic: ..."), or a non-zero exit
                    with no assertion to explain it
  assertion         a gtest assertion failed
  error             the grader could not judge the run: the case is not in the test binary, or
                    the sanitizer's own runtime failed ("ThreadSanitizer: CHECK failed", LSan
                    unable to run); the grader retries such runs (engine.py)

A run passes when the process exited 0 and gtest reports the case OK (or skipped).
"""

import dataclasses
import re
import signal as _signal

KINDS = ("timeout", "sanitizer", "leaked goroutine", "deadlock", "crash", "assertion", "error")

# Short labels for the terminal table.
SHORT = {
    "timeout": "TIME",
    "sanitizer": "SAN",
    "leaked goroutine": "LEAK",
    "deadlock": "DEADLK",
    "crash": "CRASH",
    "assertion": "FAIL",
    "error": "ERR",
}

_SANITIZER = re.compile(
    r"^(==\d+==ERROR: (AddressSanitizer|LeakSanitizer).*"
    r"|WARNING: ThreadSanitizer.*"
    r"|.*runtime error: .*"
    r"|==\d+==ERROR: UndefinedBehaviorSanitizer.*"
    r"|ThreadSanitizer: .*)$", re.M)
_SAN_SUMMARY = re.compile(r"^SUMMARY: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|"
                          r"UndefinedBehaviorSanitizer): .*$", re.M)
# The sanitizer runtime itself broke: says nothing about the code under test.
_SAN_INTERNAL = re.compile(r"^.*(Sanitizer: CHECK failed|Sanitizer has encountered a fatal error|"
                           r"Sanitizer: nested bug).*$", re.M)
_LEAK = re.compile(r"^.*(LEAKED GOROUTINES|goroutine leak:).*$", re.M)
_DEADLOCK = re.compile(r"^.*(deadlock: all goroutines|all goroutines are asleep - deadlock).*$",
                       re.M)
_PANIC = re.compile(r"^panic: .*$", re.M)
_GTEST_FAILURE = re.compile(r"^(.*?):(\d+): Failure$", re.M)
_GTEST_EXCEPTION = re.compile(r"^.*(C\+\+ exception|unknown file: Failure).*$", re.M)


@dataclasses.dataclass
class Verdict:
    passed: bool
    kinds: list  # failure kinds, headline first (empty when passed)
    summary: str  # one line: what went wrong
    excerpt: str  # the relevant part of the output (a few lines to a few dozen)
    skipped: bool = False  # the case ran and called GTEST_SKIP
    infrastructure: bool = False  # failed for reasons outside the code under test: retry

    @property
    def kind(self):
        return self.kinds[0] if self.kinds else None


def _signal_name(num):
    try:
        return _signal.Signals(num).name
    except ValueError:
        return "signal %d" % num


def _block_after(text, start, max_lines=25, through_blank=False):
    """The lines of `text` from offset `start`, up to a blank line (unless through_blank: a
    goroutine dump has blank lines between entries), a gtest result line, or max_lines."""
    lines = text[start:].splitlines()
    keep = []
    for line in lines:
        if keep and ((not line.strip() and not through_blank) or line.startswith("[  FAILED  ]")
                     or line.startswith("[       OK ]") or line.startswith("[==========]")):
            break
        keep.append(line)
        if len(keep) >= max_lines:
            keep.append("...")
            break
    return "\n".join(keep)


def _sanitizer_excerpt(text, m):
    lines = text[m.start():].splitlines()
    keep = lines[:40]
    summary = _SAN_SUMMARY.search(text)
    if summary and summary.group(0) not in keep:
        keep += ["...", summary.group(0)]
    return "\n".join(keep)


# Lines of a gtest failure that restate values rather than say what went wrong.
_GTEST_BOILERPLATE = re.compile(r"^\s*(Which is:|Expected:|Actual:|Expected equality|Value of:|"
                                r"To be equal to:|Expected: \(|  actual:|  expected:|With diff:)")


def _assertion_summary(body, fallback):
    """One line for a gtest failure: the test's own message when it gave one (the last line),
    else the first line (e.g. "Value of: ok")."""
    body = [ln.strip() for ln in body if ln.strip()]
    if not body:
        return fallback.strip()
    last = body[-1]
    if not _GTEST_BOILERPLATE.match(last) and len(body) > 1:
        return last
    return body[0]


def classify(result, case):
    """Classifies one run of gtest case `case` ("Suite.Name")."""
    out = result.output
    kinds = []
    parts = []  # (kind, summary, excerpt)

    if result.timed_out:
        parts.append(("timeout", "did not finish within the time limit (%.0f s); killed" %
                      result.duration, out[-3000:]))
    internal = _SAN_INTERNAL.search(out)
    if internal and not result.timed_out:
        return Verdict(passed=False, kinds=["error"],
                       summary="the sanitizer's runtime itself failed (not a finding about the "
                               "code under test): " + internal.group(0).strip()[:200],
                       excerpt=_block_after(out, internal.start(), 20), infrastructure=True)
    m = _SANITIZER.search(out)
    if m:
        summary = _SAN_SUMMARY.search(out)
        line = (summary.group(0) if summary else m.group(0)).strip()
        parts.append(("sanitizer", line[:300], _sanitizer_excerpt(out, m)))
    m = _LEAK.search(out)
    if m:
        parts.append(("leaked goroutine", m.group(0).strip()[:300],
                      _block_after(out, m.start(), 40, through_blank=True).rstrip()))
    m = _DEADLOCK.search(out)
    if m:
        parts.append(("deadlock", m.group(0).strip()[:300],
                      _block_after(out, m.start(), 40, through_blank=True).rstrip()))
    m = _PANIC.search(out)
    if m:
        parts.append(("crash", m.group(0).strip()[:300], _block_after(out, m.start(), 40)))
    elif not result.timed_out and result.returncode < 0:
        parts.append(("crash", "killed by %s" % _signal_name(-result.returncode), out[-3000:]))
    failures = list(_GTEST_FAILURE.finditer(out))
    exc = _GTEST_EXCEPTION.search(out)
    if failures or exc:
        first = failures[0] if failures else exc
        block = "\n\n".join(_block_after(out, f.start()) for f in (failures or [exc])[:3])
        summary = _assertion_summary(_block_after(out, first.start()).splitlines()[1:],
                                     first.group(0))
        parts.append(("assertion", summary[:300], block))

    ok_line = "[       OK ] %s" % case in out
    skipped = "[  SKIPPED ] %s" % case in out
    ran = ok_line or skipped or ("[ RUN      ] %s" % case) in out

    if not parts and result.returncode != 0:
        parts.append(("crash", "exited with status %d" % result.returncode, out[-3000:]))
    if not parts and not ran:
        parts.append(("error", "case %s is not in the test binary (rubric and tests disagree)"
                      % case, out[-2000:]))
    if not parts and not (ok_line or skipped):
        parts.append(("crash", "the test did not finish (no OK line)", out[-3000:]))

    if not parts:
        return Verdict(passed=True, kinds=[], summary="skipped" if skipped else "ok",
                       excerpt="", skipped=skipped)

    order = {k: i for i, k in enumerate(KINDS)}
    parts.sort(key=lambda p: order[p[0]])
    for k, _, _ in parts:
        if k not in kinds:
            kinds.append(k)
    head = parts[0]
    excerpt = head[2]
    # A leak or deadlock is often explained by the assertion that failed first; show both.
    if len(parts) > 1 and parts[1][0] == "assertion" and head[0] != "timeout":
        excerpt = excerpt + "\n\n" + parts[1][2]
    return Verdict(passed=False, kinds=kinds, summary=head[1], excerpt=excerpt.strip("\n"))
