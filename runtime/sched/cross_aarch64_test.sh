#!/usr/bin/env bash
# The AArch64 port, checked from an x86-64 machine (issue 3: "aarch64 too if you can
# cross-compile and run it under qemu-user from Debian's packages").
#
#   runtime/sched/cross_aarch64_test.sh          (./course test runs it when the tools exist)
#
# 1. Builds context_test.cc with context_aarch64.S for AArch64 (statically linked) and runs it
#    under qemu-aarch64: fresh fibers, preserved registers and FPCR, round-robin switching.
# 2. Compiles every runtime source for AArch64 (-fsyntax-only against the abseil sources that
#    ./course setup unpacks): no x86-only code left outside an #if.
# Needs Debian's g++-aarch64-linux-gnu and qemu-user. Exit status: 0 ok, 1 a check failed,
# 77 the tools are missing (skipped).
set -u
cd "$(dirname "$0")/../.."
CXX=aarch64-linux-gnu-g++
QEMU=qemu-aarch64
for tool in "$CXX" "$QEMU"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "cross_aarch64_test: $tool is not installed (Debian: g++-aarch64-linux-gnu, qemu-user): skipped"
    exit 77
  fi
done
ABSL=.deps/abseil-cpp
if [[ ! -d "$ABSL/absl" ]]; then
  echo "cross_aarch64_test: $ABSL is missing (run ./course setup)"
  exit 1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0

echo "cross_aarch64_test: context_test for aarch64 under $QEMU"
if $CXX -std=c++20 -O2 -static -Wall -Werror -I. -o "$out/context_test" \
    runtime/sched/context_test.cc runtime/sched/context_aarch64.S runtime/sched/context_x86_64.S; then
  if ! $QEMU "$out/context_test"; then
    echo "cross_aarch64_test: FAILED: context_test under $QEMU"
    status=1
  fi
else
  echo "cross_aarch64_test: FAILED: building context_test for aarch64"
  status=1
fi

echo "cross_aarch64_test: compiling the runtime's sources for aarch64"
mapfile -t sources < <(git ls-files 'runtime/*.cc' | grep -v '_test\.cc$')
if ! printf '%s\n' "${sources[@]}" |
    xargs -P "$(nproc)" -I{} $CXX -std=c++20 -fsyntax-only -Wall -Werror -I. -I"$ABSL" {}; then
  echo "cross_aarch64_test: FAILED: a runtime source does not compile for aarch64 (above)"
  status=1
fi
((status == 0)) && echo "cross_aarch64_test: PASSED (${#sources[@]} sources compile; context_test ran)"
exit $status
