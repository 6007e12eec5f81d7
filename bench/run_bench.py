#!/usr/bin/env python3
"""./course bench: the runtime's workloads beside their Go twins, in the same run.

    ./course bench [--only NAME[,NAME...]] [--procs N] [--no-go] [--reps N] [--quick] [--list]

Builds the C++ side (//bench:bench_cpp) with `bazel build -c opt` and the Go twins (bench/go,
standard library only, built offline), then runs every workload --reps times on each side, one
fresh process per run, alternating C++ and Go so that both see the same machine load. Each
process times its workload inside a goroutine with the monotonic clock; the best (lowest) of
the runs is reported. Output, on stdout:

    cpp <name> <value> <unit>        one line per measurement and side (machine-readable)
    go <name> <value> <unit>
    # ...                            comments: the machine, unavailable workloads, failures
    then a table for people: measurement, unit, this runtime, Go, ratio (runtime / Go), target.

A workload whose runtime package is not in this checkout is reported as unavailable (a comment
line and the table), never replaced by something else. Exit status: 0 when every selected
workload that is available ran and passed its own check, 1 otherwise, 2 on bad usage.

--procs N sets GOMAXPROCS for both sides (the GOMAXPROCS environment variable and an explicit
call); without it both use their default (the number of hardware threads). --quick divides the
sizes by about 100: a smoke run whose numbers are not comparable with the record.
Environment: BENCH_BAZEL_OUTPUT_BASE (or --output-base) gives Bazel an output base of its own.
--cpp-bin PATH / --go-bin PATH run binaries built elsewhere instead of building (a machine with
neither Bazel nor Go: see "Recording on another machine" in docs/PERFORMANCE.md).
Definitions of the workloads and the targets: docs/PERFORMANCE.md.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GO_DIR = os.path.join(ROOT, "bench", "go")
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "go-course")

# The catalogue, in print order: workload -> [(measurement, unit)]. Names are binding (issue 9;
# bench/workloads_*.cc and bench/go/workloads.go use the same ones).
CATALOG = [
    ("skynet_1m", [("skynet_1m", "ms")]),
    ("spawn_join", [("spawn_join", "ns/goroutine")]),
    ("parked", [("parked_spawn", "ns/goroutine"), ("parked_mem", "bytes/goroutine")]),
    ("pingpong_unbuffered", [("pingpong_unbuffered", "ns/roundtrip")]),
    ("prodcons_4x4_cap128", [("prodcons_4x4_cap128", "ns/item")]),
    ("prodcons_1x1_cap0", [("prodcons_1x1_cap0", "ns/item")]),
    ("mutex_1workers", [("mutex_1workers", "ns/op")]),
    ("mutex_8workers", [("mutex_8workers", "ns/op")]),
    ("select_fanin4", [("select_fanin4", "ns/op")]),
    ("context_tree", [("context_tree_build", "ns/leaf"), ("context_tree_cancel", "ms")]),
    ("sleepers_100k_1to10ms", [("sleepers_100k_1to10ms", "ms")]),
    ("rwmutex_readmostly", [("rwmutex_readmostly", "ns/op")]),
    ("waitgroup_wait", [("waitgroup_wait", "ns/round")]),
    ("once_8workers", [("once_8workers", "ns/op")]),
    ("pool_8workers", [("pool_8workers", "ns/op")]),
    ("timer_create_stop", [("timer_create_stop", "ns/op")]),
    ("after_100k_1to10ms", [("after_100k_1to10ms", "ms")]),
    ("gosched", [("gosched", "ns/op")]),
]

# Targets (issue 9): runtime/Go at or below 1.0, except parked_mem: at most 4.5 KiB per parked
# goroutine (one touched 4 KiB page is the floor for a stackful design).
PARKED_MEM_LIMIT = 4.5 * 1024


def target_of(measure):
    return "<= 4608 B" if measure == "parked_mem" else "ratio <= 1.0"


def target_met(measure, cpp, go):
    if cpp is None:
        return None
    if measure == "parked_mem":
        return cpp <= PARKED_MEM_LIMIT
    if go is None or go <= 0:
        return None
    return cpp / go <= 1.0


def die(msg, code=1):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(code)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- building -----------------------------------------------------------------------------------
def bazel_cmd(output_base):
    cmd = ["bazel"]
    if output_base:
        cmd.append(f"--output_base={output_base}")
    return cmd


def build_cpp(output_base):
    if shutil.which("bazel") is None:
        die("bazel is not on PATH (run ./course setup)")
    # --symlink_prefix=/: no bazel-bin/bazel-out symlinks, so an optimized build never repoints
    # the workspace's convenience links away from the user's everyday (fastbuild) outputs.
    flags = ["-c", "opt", "--symlink_prefix=/"]
    if os.environ.get("CI", "") not in ("", "false"):
        flags.append("--config=ci")
    log("building //bench:bench_cpp (bazel build -c opt)")
    r = subprocess.run(bazel_cmd(output_base) + ["build"] + flags + ["//bench:bench_cpp"], cwd=ROOT)
    if r.returncode != 0:
        die("bazel build -c opt //bench:bench_cpp failed (see above)")
    info = subprocess.run(bazel_cmd(output_base) + ["info", "-c", "opt", "bazel-bin"], cwd=ROOT,
                          capture_output=True, text=True)
    if info.returncode != 0:
        die(f"bazel info bazel-bin failed: {info.stderr.strip()}")
    path = os.path.join(info.stdout.strip(), "bench", "bench_cpp")
    if not os.access(path, os.X_OK):
        die(f"built, but {path} is missing")
    return path


def find_go():
    go = shutil.which("go")
    if go is None:
        for cand in ("/usr/lib/go/bin/go", "/usr/local/go/bin/go"):
            if os.access(cand, os.X_OK):
                return cand
    return go


def go_env():
    env = dict(os.environ)
    env.update({
        "GO111MODULE": "on",
        "GOFLAGS": "-buildvcs=false",
        "GOPROXY": "off",          # the twins use the standard library only: never download
        "GOWORK": "off",
        "GOTOOLCHAIN": "local",    # newer go commands: never fetch another toolchain
        "GOCACHE": os.path.join(CACHE, "go-build"),
        "GOMODCACHE": os.path.join(CACHE, "go-mod"),
        "CGO_ENABLED": "0",
    })
    return env


def build_go():
    go = find_go()
    if go is None:
        die("go is not installed: run ./course setup (it installs Debian's golang-go), or pass --no-go")
    out = os.path.join(CACHE, "bench", "bench_go")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    log("building bench/go (go build)")
    r = subprocess.run([go, "build", "-o", out, "."], cwd=GO_DIR, env=go_env())
    if r.returncode != 0:
        die("go build of bench/go failed (see above)")
    version = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    return out, version


def go_binary_version(binary):
    """The toolchain a prebuilt Go binary was built with (`go version FILE` without Go: the
    runtime.Version string is stored in the binary's build info, which bench_go prints)."""
    r = subprocess.run([binary, "-version"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "go (prebuilt, version unknown)"


# --- running ------------------------------------------------------------------------------------
def list_side(binary, flag):
    r = subprocess.run([binary, flag], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"{binary} {flag} failed: {r.stderr.strip()}")
    rows = {}
    for line in r.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 2:
            status = parts[2] if len(parts) > 2 else "ok"
            why = parts[3] if len(parts) > 3 else ""
            rows[parts[0]] = (parts[1].split(","), status, why)
    return rows


def run_once(side, binary, workload, procs, quick, env):
    """Runs one workload once; returns ({measure: value}, None) or (None, error text)."""
    if side == "cpp":
        cmd = [binary, "--run", workload]
        if procs:
            cmd += ["--procs", str(procs)]
        if quick:
            cmd.append("--quick")
    else:
        cmd = [binary, "-run", workload]
        if procs:
            cmd += ["-procs", str(procs)]
        if quick:
            cmd.append("-quick")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    except subprocess.TimeoutExpired:
        return None, "timed out after 600 s"
    values = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == side:
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                pass
    if r.returncode != 0 or not values:
        detail = (r.stdout.strip().splitlines() or [""])[-1]
        tail = "\n".join(r.stderr.strip().splitlines()[-15:])
        why = f"exit status {r.returncode}"
        if detail:
            why += f": {detail}"
        if tail:
            why += "\n" + tail
        return None, why
    return values, None


def machine_line():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    return f"{cpu or platform.processor()}, {os.cpu_count()} hardware threads, load average {load}"


def fmt(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:.0f}"
    if v >= 100:
        return f"{v:.1f}"
    if v >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def print_table(rows):
    headers = ["measurement", "unit", "this runtime", "Go", "ratio", "target", "met"]
    table = [headers]
    for r in rows:
        table.append([r["name"], r["unit"], r["cpp_text"], r["go_text"], r["ratio_text"],
                      r["target"], r["met_text"]])
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    print()
    for n, row in enumerate(table):
        cells = [row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i]) for i in range(len(row))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main():
    ap = argparse.ArgumentParser(prog="./course bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[],
                    help="measurement or workload name(s), comma-separated; repeatable")
    ap.add_argument("--procs", type=int, default=0, help="GOMAXPROCS for both sides")
    ap.add_argument("--no-go", action="store_true", help="skip the Go side")
    ap.add_argument("--reps", type=int, default=5, help="runs per workload and side (best is kept)")
    ap.add_argument("--quick", action="store_true", help="sizes / 100: a smoke run, not a record")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--output-base", default=os.environ.get("BENCH_BAZEL_OUTPUT_BASE", ""),
                    help="Bazel --output_base for the optimized build")
    ap.add_argument("--cpp-bin", default="",
                    help="a prebuilt bench_cpp (bazel build -c opt //bench:bench_cpp): no build")
    ap.add_argument("--go-bin", default="",
                    help="a prebuilt bench/go binary (built with CGO_ENABLED=0): no Go needed")
    args = ap.parse_args()
    for flag, path in (("--cpp-bin", args.cpp_bin), ("--go-bin", args.go_bin)):
        if path and not os.access(path, os.X_OK):
            die(f"{flag} {path}: not an executable file", 2)
    if args.reps < 1:
        die("--reps must be at least 1", 2)
    if args.procs < 0:
        die("--procs must be positive", 2)

    # Selection: workload names select all their measurements; a measurement name selects the
    # workload that produces it, and only that line is printed.
    wanted = [w for arg in args.only for w in arg.split(",") if w]
    selected = []  # (workload, [(measure, unit)])
    known = {w for w, _ in CATALOG} | {m for _, ms in CATALOG for m, _ in ms}
    for w in wanted:
        if w not in known:
            die(f"unknown workload '{w}'; known: {', '.join(m for _, ms in CATALOG for m, _ in ms)}", 2)
    for workload, measures in CATALOG:
        if not wanted or workload in wanted:
            selected.append((workload, measures))
        else:
            keep = [(m, u) for m, u in measures if m in wanted]
            if keep:
                selected.append((workload, keep))

    cpp_bin = os.path.abspath(args.cpp_bin) if args.cpp_bin else build_cpp(args.output_base)
    cpp_list = list_side(cpp_bin, "--list")
    go_bin, go_version = (None, "")
    if not args.no_go:
        if args.go_bin:
            go_bin = os.path.abspath(args.go_bin)
            go_version = go_binary_version(go_bin)
        else:
            go_bin, go_version = build_go()
        go_list = list_side(go_bin, "-list")
        for workload, _ in CATALOG:
            if workload not in go_list:
                die(f"bench/go has no twin for '{workload}'")
    for workload, _ in CATALOG:
        if workload not in cpp_list:
            die(f"bench_cpp does not know the workload '{workload}'")

    if args.list:
        for workload, measures in CATALOG:
            _, status, why = cpp_list[workload]
            names = ", ".join(f"{m} ({u})" for m, u in measures)
            print(f"{workload}: {names}" + ("" if status == "ok" else f"  [unavailable: {why}]"))
        return 0

    env = dict(os.environ)
    env.pop("GOGC", None)
    if args.procs:
        env["GOMAXPROCS"] = str(args.procs)
    else:
        env.pop("GOMAXPROCS", None)
    procs_text = str(args.procs) if args.procs else f"default ({os.cpu_count()})"
    print(f"# machine: {machine_line()}")
    print(f"# GOMAXPROCS={procs_text} reps={args.reps} (best of, one process each)"
          + (" QUICK SIZES (not comparable)" if args.quick else "")
          + (f" {go_version}" if go_version else " (no Go)"), flush=True)

    rows = []
    failed = False
    for workload, measures in selected:
        _, status, why = cpp_list[workload]
        cpp_vals = {m: [] for m, _ in measures}
        go_vals = {m: [] for m, _ in measures}
        cpp_err = go_err = None
        for _ in range(args.reps):
            if status == "ok" and cpp_err is None:
                vals, cpp_err = run_once("cpp", cpp_bin, workload, args.procs, args.quick, env)
                for m, _ in measures:
                    if vals and m in vals:
                        cpp_vals[m].append(vals[m])
            if go_bin and go_err is None:
                vals, go_err = run_once("go", go_bin, workload, args.procs, args.quick, env)
                for m, _ in measures:
                    if vals and m in vals:
                        go_vals[m].append(vals[m])
        if status != "ok":
            print(f"# cpp {workload} unavailable: {why}")
        if cpp_err:
            failed = True
            print(f"# cpp {workload} FAILED: {cpp_err}")
        if go_err:
            failed = True
            print(f"# go {workload} FAILED: {go_err}")
        for m, unit in measures:
            cpp = min(cpp_vals[m]) if cpp_vals[m] and not cpp_err else None
            go = min(go_vals[m]) if go_vals[m] and not go_err else None
            if cpp is not None:
                print(f"cpp {m} {fmt(cpp)} {unit}")
            if go is not None:
                print(f"go {m} {fmt(go)} {unit}")
            met = target_met(m, cpp, go)
            rows.append({
                "name": m,
                "unit": unit,
                "cpp_text": (fmt(cpp) if cpp is not None else
                             "unavailable" if status != "ok" else "FAILED"),
                "go_text": (fmt(go) if go is not None else "-" if not go_bin else "FAILED"),
                "ratio_text": f"{cpp / go:.2f}" if cpp is not None and go else "-",
                "target": target_of(m),
                "met_text": {True: "yes", False: "NO", None: "-"}[met],
            })
        sys.stdout.flush()

    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
