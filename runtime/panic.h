// go::Panic: what the runtime throws where Go would panic.
//
// Misuse that Go reports with a run-time panic (send on a closed channel,
// unlocking an unlocked mutex, a negative WaitGroup counter...) throws
// go::Panic whose what() is Go's exact message. Inside a goroutine, an
// uncaught Panic (or any exception) ends the process the way Go does:
// "panic: <message>", a goroutine dump, exit status 2.
#ifndef GO_RUNTIME_PANIC_H_
#define GO_RUNTIME_PANIC_H_

#include <stdexcept>

namespace go {

struct Panic : std::logic_error {
  using std::logic_error::logic_error;
};

}  // namespace go

#endif  // GO_RUNTIME_PANIC_H_
