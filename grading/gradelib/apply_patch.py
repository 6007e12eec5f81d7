#!/usr/bin/env python3
"""Applies a unified diff (`diff -u`) to one file, strictly: every hunk applies exactly or the
whole patch fails, naming the patch line and the file line that disagree.

Known-bad submissions are stored as patches against the reference answer
(grading/<lab>/bad/<name>/<editable file>.patch against solutions/<lab>/<editable file>). Two
consumers materialize them with this one module:

  - Bazel: the lab() macro (bazel/lab.bzl) runs it as a genrule tool,
        python3 grading/gradelib/apply_patch.py --name listdir.cc ORIGINAL PATCH OUTPUT
  - the grader: gradelib/engine.py imports it (`./course grade <lab> --submission
    grading/<lab>/bad/<name>` and the self-check), applying in memory.

Python 3 standard library only (no `patch` binary: a fresh machine may not have one).

What it accepts: optional preamble lines (e.g. a `diff -u ...` line), then one file's headers
`--- a/<name>` / `+++ b/<name>` (a tab and a timestamp after the path are ignored), then hunks
`@@ -start,count +start,count @@`. Context lines start with a space; a completely empty line
is also an empty context line (editors strip trailing blanks). `\\ No newline at end of file`
is honoured. An empty patch leaves the file unchanged.

How strict: no fuzz. A hunk's context and removed lines must match the file exactly (including
whitespace), and hunks must not overlap. A hunk may apply a few lines away from the line its
header names (an offset, as when the solution gained a line above the bug): the nearest exact
match wins. Anything else (a context line that differs, a count in the hunk header that does not
match the hunk's body, a second file in the patch) is an error.
"""

import argparse
import dataclasses
import os
import re
import sys

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


class PatchError(Exception):
    """The patch is malformed or does not apply (the message says where)."""


@dataclasses.dataclass
class Hunk:
    header: str  # the @@ line, for messages
    patch_line: int  # 1-based line of the @@ line in the patch
    old_start: int  # 1-based, as in the header (0 for an empty old side)
    new_start: int
    lines: list  # [(tag ' ' / '-' / '+', text with its newline if any, patch line number)]

    @property
    def old(self):
        return [(text, n) for tag, text, n in self.lines if tag in " -"]

    @property
    def new(self):
        return [text for tag, text, _ in self.lines if tag in " +"]


@dataclasses.dataclass
class Patch:
    old_name: str  # path on the --- line, a/ removed
    new_name: str
    hunks: list


def split_lines(text):
    """Lines of text, each with its '\\n' (the last may lack one). Only '\\n' ends a line."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _strip_prefix(path):
    path = path.split("\t", 1)[0].strip()
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def parse(patch_text, patch_name="patch"):
    """Parses a one-file unified diff into a Patch (None for an empty patch)."""
    lines = split_lines(patch_text)
    if not any(line.strip() for line in lines):
        return None
    i = 0
    while i < len(lines) and not lines[i].startswith("--- "):
        if lines[i].startswith("@@"):
            raise PatchError("%s:%d: a hunk before the `--- a/<file>` header" % (patch_name, i + 1))
        i += 1
    if i == len(lines):
        raise PatchError("%s: no `--- a/<file>` / `+++ b/<file>` header: not a unified diff "
                         "(make it with `diff -u`)" % patch_name)
    if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
        raise PatchError("%s:%d: `--- ` header not followed by `+++ `" % (patch_name, i + 2))
    patch = Patch(old_name=_strip_prefix(lines[i][4:].rstrip("\n")),
                  new_name=_strip_prefix(lines[i + 1][4:].rstrip("\n")), hunks=[])
    i += 2
    while i < len(lines):
        line = lines[i].rstrip("\n")
        if not any(rest.strip() for rest in lines[i:]):
            break  # blank lines after the last hunk
        m = _HUNK.match(line)
        if not m:
            if line.startswith("--- "):
                raise PatchError("%s:%d: a second file in the patch; one patch changes one file"
                                 % (patch_name, i + 1))
            raise PatchError("%s:%d: expected a hunk header `@@ -l,n +l,n @@`, found %r" %
                             (patch_name, i + 1, line))
        old_start, new_start = int(m.group(1)), int(m.group(3))
        old_count = 1 if m.group(2) is None else int(m.group(2))
        new_count = 1 if m.group(4) is None else int(m.group(4))
        hunk = Hunk(header=line, patch_line=i + 1, old_start=old_start, new_start=new_start,
                    lines=[])
        i += 1
        old_seen = new_seen = 0
        while i < len(lines) and (old_seen < old_count or new_seen < new_count
                                  or lines[i].startswith("\\")):
            raw = lines[i]
            if raw.startswith("\\"):
                if not hunk.lines or raw.rstrip("\n") != _NO_NEWLINE:
                    raise PatchError("%s:%d: unexpected %r" % (patch_name, i + 1, raw.rstrip("\n")))
                tag, text, n = hunk.lines[-1]
                hunk.lines[-1] = (tag, text[:-1] if text.endswith("\n") else text, n)
            elif raw in ("\n", ""):  # an empty context line whose leading space was stripped
                hunk.lines.append((" ", "\n", i + 1))
                old_seen += 1
                new_seen += 1
            elif raw[0] in " -+":
                hunk.lines.append((raw[0], raw[1:], i + 1))
                old_seen += raw[0] in " -"
                new_seen += raw[0] in " +"
            else:
                raise PatchError("%s:%d: a hunk line must start with ' ', '-' or '+', found %r"
                                 % (patch_name, i + 1, raw.rstrip("\n")))
            i += 1
        if old_seen != old_count or new_seen != new_count:
            raise PatchError("%s:%d: hunk %s promises %d old and %d new lines but has %d and %d "
                             "(was the patch edited by hand?)" % (
                                 patch_name, hunk.patch_line, line, old_count, new_count,
                                 old_seen, new_seen))
        patch.hunks.append(hunk)
    if not patch.hunks:
        raise PatchError("%s: headers but no hunk" % patch_name)
    return patch


def _matches(src, at, old):
    if at < 0 or at + len(old) > len(src):
        return False
    return all(src[at + k] == text for k, (text, _) in enumerate(old))


def _mismatch(src, at, old, patch_name, file_name, hunk, number):
    """The message for a hunk that does not apply: its first line that differs at `at`."""
    for k, (text, n) in enumerate(old):
        found = src[at + k] if at + k < len(src) else None
        if found != text:
            return ("%s:%d: hunk %d (%s) does not apply: at %s:%d it expects\n    %r\n"
                    "  but the file has\n    %r\n"
                    "  (no fuzz: regenerate the patch with `diff -u` against the current file)" % (
                        patch_name, n, number, hunk.header, file_name, at + k + 1, text,
                        "<end of file>" if found is None else found))
    return "%s:%d: hunk %d does not apply to %s" % (patch_name, hunk.patch_line, number, file_name)


def apply(original, patch_text, name=None, patch_name="patch", file_name="file"):
    """Returns `original` (str) with the unified diff `patch_text` applied.

    name: if given, the file name the patch's headers must name (after a/ and b/).
    patch_name, file_name: how messages refer to the patch and to the original file.
    Raises PatchError when the patch is malformed, names another file, or a hunk does not apply.
    """
    patch = parse(patch_text, patch_name)
    if patch is None:
        return original
    if name is not None and name not in (patch.old_name, patch.new_name):
        raise PatchError("%s: the patch is for %r, not %r (headers must be `--- a/%s` and "
                         "`+++ b/%s`)" % (patch_name, patch.new_name, name, name, name))
    src = split_lines(original)
    out = []
    pos = 0  # lines of src before pos are done
    for number, hunk in enumerate(patch.hunks, 1):
        old = hunk.old
        # diff -u counts from 1, and names the line before an insertion when nothing is removed
        # or kept (old count 0); both become a 0-based index here.
        want = hunk.old_start - 1 if old else hunk.old_start
        at = None
        for delta in range(len(src) + 1):
            for cand in ((want - delta, want + delta) if delta else (want,)):
                if cand >= pos and _matches(src, cand, old):
                    at = cand
                    break
            if at is not None:
                break
        if at is None:
            raise PatchError(_mismatch(src, max(min(want, len(src)), pos), old, patch_name,
                                       file_name, hunk, number))
        out.extend(src[pos:at])
        out.extend(hunk.new)
        pos = at + len(old)
    out.extend(src[pos:])
    return "".join(out)


def _read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def apply_files(original_path, patch_path, name=None):
    """apply() on files; messages name the paths."""
    return apply(_read(original_path), _read(patch_path), name=name, patch_name=patch_path,
                 file_name=original_path)


def main(argv=None):
    p = argparse.ArgumentParser(prog="apply_patch.py", description=__doc__.split("\n")[0])
    p.add_argument("original")
    p.add_argument("patch")
    p.add_argument("output")
    p.add_argument("--name", help="the file name the patch must be for (default: ORIGINAL's "
                                  "base name)")
    args = p.parse_args(argv)
    try:
        text = apply_files(args.original, args.patch,
                           name=args.name or os.path.basename(args.original))
    except (OSError, UnicodeDecodeError, PatchError) as e:
        print("apply_patch: %s" % e, file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
