#include "bindings/free_functions.h"

#include <pybind11/stl.h>

#include <vector>

#include "drats/drats_math.h"

namespace py = pybind11;

namespace drats::bindings {

void BindFreeFunctions(py::module_& m) {
  m.def(
      "project_floor",
      [](const std::vector<double>& z, double eps) { return drats::ProjectFloor(z, eps); },
      py::arg("z"), py::arg("eps"));
  m.def(
      "mirror_ascent_step",
      [](const std::vector<double>& q, const std::vector<double>& gaps, double eta,
         double step_size,
         double eps) { return drats::MirrorAscentStep(q, gaps, eta, step_size, eps); },
      py::arg("q"), py::arg("gaps"), py::arg("eta"), py::arg("step_size"), py::arg("eps"));
}

}  // namespace drats::bindings
