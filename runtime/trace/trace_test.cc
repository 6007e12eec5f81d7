#include "runtime/trace/trace.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/synctest/synctest.h"
#include "runtime/time/sleep.h"

namespace go {
namespace {

TEST(TraceTest, RecordsTheLifeOfAGoroutine) {
  trace::Start();
  std::atomic<bool> done{false};
  Go([&] {
    Sleep(absl::Milliseconds(1));
    done = true;
  });
  while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it exit
  auto events = trace::Stop();
  int64_t g = 0;
  for (const auto& e : events) {
    if (e.kind == trace::Event::kCreate) g = e.goroutine;
  }
  ASSERT_NE(g, 0);
  bool started = false, parked = false, unparked = false, ended = false;
  for (const auto& e : events) {
    if (e.goroutine != g) continue;
    started |= e.kind == trace::Event::kStart;
    parked |= e.kind == trace::Event::kPark && e.reason == "sleep";
    unparked |= e.kind == trace::Event::kUnpark;
    ended |= e.kind == trace::Event::kEnd;
  }
  EXPECT_TRUE(started && parked && unparked && ended);
  std::string json = trace::ToChromeJSON(events);
  EXPECT_NE(json.find("\"traceEvents\""), std::string::npos);
  EXPECT_NE(json.find("parks: sleep"), std::string::npos);
  std::string html = trace::ToHTML(events);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no network
}

std::vector<std::pair<int, uint64_t>> BubbleSchedule(uint64_t seed) {
  trace::Start();
  std::mutex mu;  // outlives every bubble goroutine (the root exits first)
  synctest::Test(synctest::Options{.seed = seed, .policy = std::nullopt}, [&mu] {
    for (int i = 0; i < 4; i++) {
      Go([&mu] {
        for (int j = 0; j < 3; j++) {
          { std::lock_guard<std::mutex> l(mu); }
          Gosched();
          Sleep(absl::Milliseconds(j));
        }
      });
    }
  });
  std::vector<std::pair<int, uint64_t>> seq;
  for (const auto& e : trace::Stop()) {
    if (e.in_bubble) seq.emplace_back(e.kind, e.bubble_seq);
  }
  return seq;
}

TEST(TraceTest, SameSeedSameEventSequence) {
  auto a = BubbleSchedule(7), b = BubbleSchedule(7);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace go
