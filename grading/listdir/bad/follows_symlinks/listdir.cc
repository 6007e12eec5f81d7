// Lab listdir, KNOWN-BAD submission follows_symlinks: DiskUsage uses stat, which follows symlinks.
// (A copy of the reference answer with one bug; see MANIFEST.)
//
// Invariants:
//   [one-closer] ListDirectory's goroutine is the only sender on its channel, so it alone
//     closes it, exactly once, on every path out (a closure-scoped guard).
//   [no-send-after-done] once ctx is done the goroutine sends nothing more: each send is a
//     select against ctx.Done(), preceded by an Err() check (select picks at random among
//     ready cases, so without the check a ready receiver could win a few more times).
//   [slots] DiskUsage lists a directory only while holding one of `parallelism` slots (a
//     buffered channel: a send takes a slot, a receive gives it back), and holds none while
//     it waits for anything else, so a parallelism of 1 cannot deadlock on a deep tree.
//   [join] every walk goroutine is started by the errgroup and DiskUsage returns only after
//     Wait, so none outlives the call, and the walk state on DiskUsage's stack outlives them.
#include "labs/listdir/listdir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "runtime/go.h"

namespace lab::listdir {

absl::Status ListDirectoryFunc(const std::string& dir,
                               absl::FunctionRef<absl::Status(std::string_view name)> fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("open ", dir));
  absl::Status status;
  for (;;) {
    errno = 0;  // readdir returns null both at the end and on error; only errno tells them apart
    const struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) status = absl::ErrnoToStatus(errno, absl::StrCat("read ", dir));
      break;
    }
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    status = fn(name);
    if (!status.ok()) break;
  }
  ::closedir(d);
  return status;
}

go::RecvChan<absl::StatusOr<std::string>> ListDirectory(const go::context::Context& ctx,
                                                        const std::string& dir) {
  auto out = go::MakeChan<absl::StatusOr<std::string>>();
  // The goroutine owns copies of everything it uses: the caller may return (and destroy its
  // ctx and dir) long before the listing ends.
  go::Go([ctx, dir, out] {
    struct CloseOnExit {  // [one-closer]
      go::Chan<absl::StatusOr<std::string>> ch;
      ~CloseOnExit() { ch.Close(); }
    } closer{out};
    // Sends item unless ctx is done first; false means "stop" [no-send-after-done].
    auto send = [&](absl::StatusOr<std::string> item) {
      if (!ctx.Err().ok()) return false;
      bool sent = false;
      go::Select(go::OnSend(out, std::move(item), [&] { sent = true; }), go::OnRecv(ctx.Done()));
      return sent;
    };
    bool stopped = false;
    absl::Status st = ListDirectoryFunc(dir, [&](std::string_view name) {
      if (send(std::string(name))) return absl::OkStatus();
      stopped = true;
      return absl::CancelledError("stopped");  // any non-OK status ends the listing
    });
    if (!st.ok() && !stopped) send(std::move(st));
  });
  return out;
}

namespace {

// One DiskUsage call: the counters and what every walk goroutine shares [join].
class Walk {
 public:
  Walk(go::context::Context ctx, go::errgroup::Group* group, int parallelism)
      : ctx_(std::move(ctx)), group_(group), slots_(go::MakeChan<std::monostate>(parallelism)) {}

  // Dir lists one directory and starts a goroutine per subdirectory.
  absl::Status Dir(const std::string& path) {
    std::vector<std::string> subdirs;
    absl::Status st = ListHoldingSlot(path, subdirs);
    if (!st.ok()) return st;
    for (std::string& sub : subdirs) {
      group_->Go([this, sub = std::move(sub)] { return Dir(sub); });
    }
    return absl::OkStatus();
  }

  Usage Result() const { return Usage{files_.load(), dirs_.load(), bytes_.load()}; }

 private:
  // [slots]: take a slot (or give up once ctx is done), list, give the slot back.
  absl::Status ListHoldingSlot(const std::string& path, std::vector<std::string>& subdirs) {
    if (!ctx_.Err().ok()) return ctx_.Err();
    bool acquired = false;
    go::Select(go::OnSend(slots_, std::monostate{}, [&] { acquired = true; }),
               go::OnRecv(ctx_.Done()));
    if (!acquired) return ctx_.Err();
    absl::Status st = ListDirectoryFunc(path, [&](std::string_view name) -> absl::Status {
      if (!ctx_.Err().ok()) return ctx_.Err();
      std::string child = absl::StrCat(path, "/", name);
      struct stat sb;
      if (::stat(child.c_str(), &sb) != 0)  // BUG: stat follows symlinks return absl::ErrnoToStatus(errno, absl::StrCat("lstat ", child));
      if (S_ISDIR(sb.st_mode)) {
        dirs_.fetch_add(1);
        subdirs.push_back(std::move(child));
      } else if (S_ISREG(sb.st_mode)) {
        files_.fetch_add(1);
        bytes_.fetch_add(sb.st_size);
      }  // symlinks and everything else: neither followed nor counted
      return absl::OkStatus();
    });
    slots_.Recv();
    return st;
  }

  go::context::Context ctx_;  // the group's context: done on the first error, or with the caller's
  go::errgroup::Group* group_;
  go::Chan<std::monostate> slots_;
  std::atomic<int64_t> files_{0}, dirs_{0}, bytes_{0};
};

}  // namespace

absl::StatusOr<Usage> DiskUsage(const go::context::Context& ctx, const std::string& root,
                                int parallelism) {
  if (parallelism < 1) {
    return absl::InvalidArgumentError(absl::StrCat("parallelism must be at least 1, got ", parallelism));
  }
  if (!ctx.Err().ok()) return ctx.Err();
  auto [group, gctx] = go::errgroup::WithContext(ctx);
  Walk walk(gctx, group.get(), parallelism);
  group->Go([&walk, &root] { return walk.Dir(root); });
  absl::Status st = group->Wait();
  // A walk stopped because the caller's ctx is done reports ctx's error, not whichever
  // goroutine noticed first (they all see the group's context, derived from it).
  if (!ctx.Err().ok()) return ctx.Err();
  if (!st.ok()) return st;
  return walk.Result();
}

}  // namespace lab::listdir
