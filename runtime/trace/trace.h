// Package trace: an opt-in record of scheduling events (Go's runtime/trace,
// in Chrome's trace-event format).
//
//   go::trace::Start();
//   ... run the program ...
//   std::vector<go::trace::Event> events = go::trace::Stop();
//   go::trace::WriteFile("out.json", go::trace::ToChromeJSON(events));   // Perfetto, chrome://tracing
//   go::trace::WriteFile("out.html", go::trace::ToHTML(events));         // self-contained timeline
//
// Or set GO_TRACE=/tmp/prog: the runtime starts tracing at start-up and
// writes /tmp/prog.json and /tmp/prog.html at exit.
//
// Events: goroutine created (with its parent), started on a P/M, stopped,
// parked (with the wait reason), unparked (with the waker), ended. Recording
// costs one relaxed load per scheduling event while off.
#ifndef GO_RUNTIME_TRACE_TRACE_H_
#define GO_RUNTIME_TRACE_TRACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace go::trace {

struct Event {
  enum Kind { kCreate, kStart, kStop, kPark, kUnpark, kEnd };
  Kind kind;
  int64_t ts_ns;        // runtime clock (virtual inside a synctest bubble)
  int64_t goroutine;    // goroutine id
  int64_t other;        // kCreate: parent id; kUnpark: waker id (0: a thread or timer)
  uint64_t bubble_seq;  // spawn order inside its synctest bubble (stable across runs)
  bool in_bubble;
  int p;                // P id, or -1
  int m;                // M id, or -1 (a plain thread or a bubble's thread)
  std::string reason;   // kPark: the wait reason ("chan receive", ...)
};

void Start();
std::vector<Event> Stop();

std::string ToChromeJSON(const std::vector<Event>& events);
std::string ToHTML(const std::vector<Event>& events);
absl::Status WriteFile(const std::string& path, const std::string& contents);

}  // namespace go::trace

#endif  // GO_RUNTIME_TRACE_TRACE_H_
