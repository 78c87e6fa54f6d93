// Binds drats::GapSampler as `GapSampler` (see python/drats/_core.pyi). Every method checks its
// arrays' dtypes and shapes before it takes the object's lock and holds the lock for the whole
// call; sample releases the GIL while it draws.
#ifndef DRATS_BINDINGS_GAP_SAMPLER_BINDING_H_
#define DRATS_BINDINGS_GAP_SAMPLER_BINDING_H_

#include <pybind11/pybind11.h>

namespace drats::bindings {

void BindGapSampler(pybind11::module_& m);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_GAP_SAMPLER_BINDING_H_
