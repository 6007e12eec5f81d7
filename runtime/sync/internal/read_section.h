// Read sections and grace periods: safe memory reclamation for the lock-free
// read paths of sync::Map (a small sleepable-RCU in the style of Linux SRCU).
//
//   ReadSection            RAII: while one lives, nothing retired after it
//                          began is freed
//   SynchronizeReaders()   waits until every ReadSection that began before
//                          the call has ended (a grace period)
//
// A writer unlinks an object (so that new readers cannot find it), then,
// after a grace period, frees it: any reader that could still hold a
// pointer to it began before the unlink, hence before the grace period.
//
// Readers never write a shared cache line: each announces itself by
// incrementing a counter in a slot of its own P (goroutines) or of a small
// set shared by plain threads (and synctest bubbles), under the parity of a
// global epoch. A grace period flips the epoch and waits for the old
// parity's counters to drain; grace periods are serialized, so one flip is
// enough (readers of the parity before the previous flip were waited for by
// the previous grace period). Counters, not flags, so a section may be held
// across a park (the goroutine may resume on another P; the section
// remembers its slot), and slots may be shared.
//
// Cost: a ReadSection is two atomic RMWs on a P-local cache line plus two
// loads of the epoch (read-mostly); a grace period scans 80 cache lines and
// waits for the readers it must. Never call SynchronizeReaders inside a
// ReadSection (it would wait for itself).
//
// Memory ordering: everything a reader did inside its section happens
// before SynchronizeReaders returns in any grace period that waited for it
// (for ThreadSanitizer too: the counters are release/acquire atomics), so
// freeing after it is not a race.
#ifndef GO_RUNTIME_SYNC_INTERNAL_READ_SECTION_H_
#define GO_RUNTIME_SYNC_INTERNAL_READ_SECTION_H_

namespace go::sync::internal {

class ReadSection {
 public:
  ReadSection();
  ~ReadSection();
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;

 private:
  int slot_;
  int parity_;
};

// Waits until every ReadSection that began before this call has ended.
// Blocks (yielding) while readers remain; must not be called from inside a
// ReadSection.
void SynchronizeReaders();

}  // namespace go::sync::internal

#endif  // GO_RUNTIME_SYNC_INTERNAL_READ_SECTION_H_
