// Binds drats/mlp_forward.h as `MlpForward`: built from a list of (weight float32[out, in],
// bias float32[out]) pairs in torch's layout and the number of heads, called on
// (x float32[n, in], task_ids int64[n], or None with one head) for float32[n, head_dim].
// Immutable, so calls need no lock; the GIL is released around a forward pass of many rows.
#ifndef DRATS_BINDINGS_MLP_FORWARD_BINDING_H_
#define DRATS_BINDINGS_MLP_FORWARD_BINDING_H_

#include <pybind11/pybind11.h>

namespace drats::bindings {

void BindMlpForward(pybind11::module_& m);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_MLP_FORWARD_BINDING_H_
