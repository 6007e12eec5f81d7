// Helpers the conformance tests share: Go's panic messages, the bubble clock's epoch, and a
// receive that does not block.
#ifndef GO_TESTS_CONFORMANCE_CONFORMANCE_H_
#define GO_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <functional>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
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

// Where a synctest bubble's clock starts: 2000-01-01 00:00:00 UTC.
inline const absl::Time kEpoch =
    absl::FromCivil(absl::CivilSecond(2000, 1, 1, 0, 0, 0), absl::UTCTimeZone());

// Receives from c if that does not block; true if it did (a value was waiting, or c is
// closed: for a Done channel, "is it closed?").
template <typename T>
bool ReceivesAtOnce(const go::RecvChan<T>& c) {
  return go::Select(go::OnRecv(c), go::OnDefault()) == 0;
}

}  // namespace conformance

// EXPECT_GO_PANIC(stmt, msg): stmt throws go::Panic whose what() is exactly msg.
#define EXPECT_GO_PANIC(stmt, msg)     \
  EXPECT_EQ(::conformance::PanicText([&] { stmt; }), std::string(msg))

#endif  // GO_TESTS_CONFORMANCE_CONFORMANCE_H_
