// PanicText and EXPECT_GO_PANIC: what go::Panic a call threw, compared with Go's panic message.
#ifndef GO_TESTS_CONFORMANCE_PANIC_TEXT_H_
#define GO_TESTS_CONFORMANCE_PANIC_TEXT_H_

#include <functional>
#include <string>

#include "runtime/go.h"

namespace conformance {

// Runs f and returns the message of the go::Panic it threw, or "(no panic)".
inline std::string PanicText(const std::function<void()>& f) {
  try {
    f();
  } catch (const go::Panic& p) {
    return p.what();
  }
  return "(no panic)";
}

}  // namespace conformance

// EXPECT_GO_PANIC(stmt, msg): stmt throws go::Panic whose what() is exactly msg.
#define EXPECT_GO_PANIC(stmt, msg)     \
  EXPECT_EQ(::conformance::PanicText([&] { stmt; }), std::string(msg))

#endif  // GO_TESTS_CONFORMANCE_PANIC_TEXT_H_
