#include "bindings/free_functions.h"

#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/numpy_io.h"
#include "drats/categorical.h"
#include "drats/drats_math.h"
#include "drats/gaussian.h"

namespace py = pybind11;

namespace drats::bindings {

namespace {

// categorical_draw(logits float32[n, k], u float64[n] | None, valid bool[n, k] | None)
// -> (actions int64[n], log_probs float32[n]): see drats/categorical.h.
py::tuple CategoricalDrawBinding(const py::handle& logits_obj, const py::handle& u_obj,
                                 const py::handle& valid_obj) {
  auto logits = AsArray<float>(logits_obj, "logits", "f");
  if (logits.ndim() != 2 || logits.shape(1) < 1) {
    throw std::invalid_argument("logits must have shape (n, k) with k >= 1, got " +
                                ShapeStr(Shape(logits.shape(), logits.shape() + logits.ndim())));
  }
  const py::ssize_t n = logits.shape(0);
  const py::ssize_t k = logits.shape(1);
  py::array_t<double, py::array::c_style> u;
  if (!u_obj.is_none()) {
    u = AsArray<double>(u_obj, "u", "f");
    CheckShape(u, n, {}, "u");
    const double* p = u.data();
    for (py::ssize_t i = 0; i < n; ++i) {
      if (!(p[i] >= 0.0 && p[i] < 1.0)) {
        throw std::invalid_argument("u must lie in [0, 1), got " + std::to_string(p[i]));
      }
    }
  }
  py::array_t<bool, py::array::c_style> valid;
  if (!valid_obj.is_none()) {
    valid = AsArray<bool>(valid_obj, "valid", "b");
    CheckShape(valid, n, {k}, "valid");
    const bool* p = valid.data();
    for (py::ssize_t i = 0; i < n; ++i) {
      bool any = false;
      for (py::ssize_t j = 0; j < k && !any; ++j) any = p[i * k + j];
      if (!any) {
        throw std::invalid_argument("valid row " + std::to_string(i) + " has no valid action");
      }
    }
  }
  py::array_t<int64_t> actions(n);
  py::array_t<float> log_probs(n);
  CategoricalDraw(logits.data(), n, k, u_obj.is_none() ? nullptr : u.data(),
                  valid_obj.is_none() ? nullptr : valid.data(), actions.mutable_data(),
                  log_probs.mutable_data());
  return py::make_tuple(actions, log_probs);
}

// gaussian_draw(out float32[n, 2a], u float64[2 n a] | None, log_std_min, log_std_max)
// -> (actions float32[n, a], raw float32[n, a], log_probs float32[n]): see drats/gaussian.h.
py::tuple GaussianDrawBinding(const py::handle& out_obj, const py::handle& u_obj,
                              double log_std_min, double log_std_max) {
  auto out = AsArray<float>(out_obj, "out", "f");
  if (out.ndim() != 2 || out.shape(1) < 2 || out.shape(1) % 2 != 0) {
    throw std::invalid_argument("out must have shape (n, 2a) with a >= 1, got " +
                                ShapeStr(Shape(out.shape(), out.shape() + out.ndim())));
  }
  if (!(log_std_min <= log_std_max)) {
    throw std::invalid_argument("log_std_min must be <= log_std_max, got " +
                                std::to_string(log_std_min) + " and " +
                                std::to_string(log_std_max));
  }
  const py::ssize_t n = out.shape(0);
  const py::ssize_t a = out.shape(1) / 2;
  py::array_t<double, py::array::c_style> u;
  if (!u_obj.is_none()) {
    u = AsArray<double>(u_obj, "u", "f");
    CheckShape(u, 2 * n * a, {}, "u");
    const double* p = u.data();
    for (py::ssize_t i = 0; i < 2 * n * a; ++i) {
      if (!(p[i] >= 0.0 && p[i] < 1.0)) {
        throw std::invalid_argument("u must lie in [0, 1), got " + std::to_string(p[i]));
      }
    }
  }
  py::array_t<float> actions({n, a});
  py::array_t<float> raw({n, a});
  py::array_t<float> log_probs(n);
  GaussianDraw(out.data(), n, a, log_std_min, log_std_max, u_obj.is_none() ? nullptr : u.data(),
               raw.mutable_data(), actions.mutable_data(), log_probs.mutable_data());
  return py::make_tuple(actions, raw, log_probs);
}

}  // namespace

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
  m.def("categorical_draw", &CategoricalDrawBinding, py::arg("logits"),
        py::arg("u") = py::none(), py::arg("valid") = py::none());
  m.def("gaussian_draw", &GaussianDrawBinding, py::arg("out"), py::arg("u"),
        py::arg("log_std_min"), py::arg("log_std_max"));
}

}  // namespace drats::bindings
