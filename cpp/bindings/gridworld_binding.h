// Binds drats/gridworld.h's fused GridWorld step as `gridworld_step` (arrays in, the pool's
// state arrays updated in place; the GIL held throughout: a few slots take microseconds).
#ifndef DRATS_BINDINGS_GRIDWORLD_BINDING_H_
#define DRATS_BINDINGS_GRIDWORLD_BINDING_H_

#include <pybind11/pybind11.h>

namespace drats::bindings {

void BindGridWorld(pybind11::module_& m);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_GRIDWORLD_BINDING_H_
