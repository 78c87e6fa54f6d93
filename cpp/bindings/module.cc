// drats._core, the production extension: assembles the bound classes and functions. The
// binding (the files of cpp/bindings/) is the only code that knows about Python: it converts
// arrays, checks their shapes and dtypes, serialises calls with a per-object mutex, releases
// the GIL around the O(batch) work and maps C++ exceptions onto drats.domain.errors.
#include <pybind11/pybind11.h>

#include "bindings/error_mapping.h"
#include "bindings/free_functions.h"
#include "bindings/gap_sampler_binding.h"
#include "bindings/gridworld_binding.h"
#include "bindings/mlp_forward_binding.h"
#include "bindings/replay_binding.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "drats C++ core: per-task prioritized replay and gap-weighted task sampling";
  pybind11::register_exception_translator(&drats::bindings::TranslateErrors);
  drats::bindings::BindFreeFunctions(m);
  drats::bindings::BindReplay(m);
  drats::bindings::BindGapSampler(m);
  drats::bindings::BindGridWorld(m);
  drats::bindings::BindMlpForward(m);
}
