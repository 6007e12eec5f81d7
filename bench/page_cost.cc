// page_cost: what the first touch of fresh anonymous memory costs on this machine, the number
// behind the small-object allocator's huge-page arenas and the stack pool's populate calls
// (docs/PERFORMANCE.md). Touches 4 MiB, one write per 4 KiB page, four ways:
//   touch      plain first touch (a page fault per page)
//   populate   one madvise(MADV_POPULATE_WRITE) over the range first (Linux 5.14+)
//   populate64 the same, 64 KiB at a time
//   hugepage   madvise(MADV_HUGEPAGE) on a 2 MiB-aligned range first (needs THP "always"
//              or "madvise"; falls back to touch otherwise)
// Usage: bazel run -c opt //bench:page_cost [-- rounds]  (each round is a fresh mapping).
#include <sys/mman.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

constexpr size_t kLen = size_t{4} << 20;
constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kPage = 4096;

long MinorFaults() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

void Run(const char* name, int mode) {
  void* m = mmap(nullptr, kLen + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                 0);
  if (m == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  auto* a = reinterpret_cast<volatile char*>((reinterpret_cast<uintptr_t>(m) + kHuge - 1) &
                                             ~(uintptr_t{kHuge} - 1));
  char* base = const_cast<char*>(a);
  const long f0 = MinorFaults();
  const auto t0 = std::chrono::steady_clock::now();
  if (mode == 1) madvise(base, kLen, MADV_POPULATE_WRITE);
  if (mode == 2) {
    for (size_t o = 0; o < kLen; o += 64 << 10) madvise(base + o, 64 << 10, MADV_POPULATE_WRITE);
  }
  if (mode == 3) madvise(base, kLen, MADV_HUGEPAGE);
  for (size_t o = 0; o < kLen; o += kPage) a[o] = 1;
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  printf("%-10s %8.0f us  %6.2f us/page  %5ld faults\n", name, us, us / (kLen / kPage),
         MinorFaults() - f0);
  munmap(m, kLen + kHuge);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 2;
  for (int r = 0; r < rounds; r++) {
    Run("touch", 0);
    Run("populate", 1);
    Run("populate64", 2);
    Run("hugepage", 3);
  }
}
