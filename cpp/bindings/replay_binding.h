// Binds drats::PerTaskReplay as `PerTaskReplay` (see python/drats/_core.pyi). Every method
// checks its arrays' dtypes and shapes before it takes the object's lock, holds the lock for
// the whole call, and releases the GIL around the O(batch) work of sample, get_state and
// set_state. sample returns views into one recycled block (a BlockPool per replay).
#ifndef DRATS_BINDINGS_REPLAY_BINDING_H_
#define DRATS_BINDINGS_REPLAY_BINDING_H_

#include <pybind11/pybind11.h>

namespace drats::bindings {

void BindReplay(pybind11::module_& m);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_REPLAY_BINDING_H_
