// Binds the pure DRATS math of drats/drats_math.h: `project_floor` and `mirror_ascent_step`
// (lists in, list out; no lock, the GIL held throughout).
#ifndef DRATS_BINDINGS_FREE_FUNCTIONS_H_
#define DRATS_BINDINGS_FREE_FUNCTIONS_H_

#include <pybind11/pybind11.h>

namespace drats::bindings {

void BindFreeFunctions(pybind11::module_& m);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_FREE_FUNCTIONS_H_
