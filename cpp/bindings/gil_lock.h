// The per-object lock of the bound classes: every call into a C++ object holds its mutex, so
// concurrent Python threads never run two calls on one object at once.
#ifndef DRATS_BINDINGS_GIL_LOCK_H_
#define DRATS_BINDINGS_GIL_LOCK_H_

#include <pybind11/pybind11.h>

#include <mutex>

namespace drats::bindings {

// Call with the GIL held. Takes `mu` and returns with both it and the GIL held. No thread
// ever waits for the mutex while holding the GIL, which rules out deadlock: a free mutex is
// taken at once without touching the GIL, a busy one is waited for with the GIL released.
inline std::unique_lock<std::mutex> LockWithoutGil(std::mutex& mu) {
  std::unique_lock<std::mutex> lock(mu, std::try_to_lock);  // never waits: safe with the GIL
  if (lock.owns_lock()) return lock;  // uncontended, the usual case: skip the GIL round trip
  pybind11::gil_scoped_release release;
  lock.lock();
  return lock;
}

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_GIL_LOCK_H_
