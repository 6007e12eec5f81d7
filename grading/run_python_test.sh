#!/usr/bin/env bash
# Runs a stdlib-only Python test file from the runfiles tree with python3 (see BUILD.bazel).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec python3 -B "$@"
