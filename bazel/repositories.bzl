"""Offline repository rules: how this workspace gets its dependencies without a network.

Bazel 4.2.3 (Debian's bazel-bootstrap) is the Bazel this project is built with. It must never
download anything: every repository below is made from files already on the machine.

  debian_rules_cc       @rules_cc from Debian's bazel-rules-cc, patched for Bazel 4.2.3.
  empty_tools_repo      @remote_coverage_tools: empty filegroups that test rules reference.
  debian_source_repo    @com_google_googletest, @com_google_absl, @com_github_google_benchmark:
                        upstream release tarballs from Debian's *source* packages, unpacked by
                        `./course setup` into .deps/<name>. They carry their own BUILD.bazel
                        files, so the labels are upstream's and they compile with our flags
                        (that is what makes --config=tsan/asan instrument them too).

`offline_dependencies()` declares all of them; WORKSPACE calls it. Bazel 7+ users with a network
use MODULE.bazel instead (same repository names, so the same labels); see README.md.
"""

def _debian_rules_cc_impl(rctx):
    # Debian ships rules_cc 0.0.4, which is newer than Bazel 4.2.3: two .bzl files load
    # use_cpp_toolchain from @bazel_tools, which 4.2.3 lacks. We copy the tree and replace that
    # call with the list it returns. Rejected: a hand-written rules_cc stub, because then
    # `load("@rules_cc//cc:defs.bzl", ...)` would not be the real file everyone else uses.
    src = rctx.path(rctx.attr.path)
    if not src.exists:
        fail("rules_cc not found at %s: run ./course setup (it installs bazel-rules-cc)" % src)
    result = rctx.execute(["cp", "-R", "%s/." % src, "."])
    if result.return_code != 0:
        fail("copying %s failed: %s" % (src, result.stderr))
    result = rctx.execute(["grep", "-rl", "--include=*.bzl", "use_cpp_toolchain", "."])
    for f in result.stdout.splitlines():
        if not f:
            continue
        text = rctx.read(f)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        rctx.file(f, text, legacy_utf8 = False)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(default = "/usr/share/bazel/rules/cc")},
    local = True,
)

def _empty_tools_repo_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", "".join([
        'filegroup(name = "%s", visibility = ["//visibility:public"])\n' % t
        for t in rctx.attr.targets
    ]))

empty_tools_repo = repository_rule(
    implementation = _empty_tools_repo_impl,
    attrs = {"targets": attr.string_list()},
)

def _debian_source_repo_impl(rctx):
    # The unpacked source lives in <workspace>/.deps/<dir>; we symlink its top-level entries so
    # that the tree is not copied (abseil alone is ~2000 files).
    workspace = rctx.path(Label("//:WORKSPACE")).dirname
    src = workspace.get_child(".deps").get_child(rctx.attr.dir)
    if not src.get_child("BUILD.bazel").exists:
        fail(("\n\n  %s is missing (source of @%s).\n" +
              "  Run `./course setup` first: it fetches Debian's source packages into .deps/.\n") %
             (src, rctx.name))
    for child in src.readdir():
        rctx.symlink(child, child.basename)

debian_source_repo = repository_rule(
    implementation = _debian_source_repo_impl,
    attrs = {"dir": attr.string(mandatory = True)},
    local = True,
)

def offline_dependencies():
    """Declares every external repository the workspace uses. Nothing is downloaded."""

    # Repositories Bazel 4.2.3's own @bazel_tools asks for.
    debian_rules_cc(name = "rules_cc")
    native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    empty_tools_repo(
        name = "remote_coverage_tools",
        targets = ["coverage_report_generator", "lcov_merger", "coverage_output_generator"],
    )

    # Needed by abseil's BUILD files (selects, config settings).
    native.local_repository(name = "bazel_skylib", path = "/usr/share/bazel/tools/skylib")
    native.local_repository(name = "platforms", path = "/usr/share/bazel/tools/platforms")

    # Third-party C++ libraries, built from source with the project's flags.
    debian_source_repo(name = "com_google_googletest", dir = "googletest")
    debian_source_repo(name = "com_google_absl", dir = "abseil-cpp")
    debian_source_repo(name = "com_github_google_benchmark", dir = "benchmark")
