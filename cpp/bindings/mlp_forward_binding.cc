#include "bindings/mlp_forward_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/numpy_io.h"
#include "drats/errors.h"
#include "drats/mlp_forward.h"

namespace drats::bindings {
namespace {

// Rows from which a call releases the GIL: below it the call takes microseconds.
constexpr py::ssize_t kReleaseRows = 64;

// A list or tuple as a sequence, else ConfigError naming `what`.
py::sequence AsSequence(const py::handle& obj, const std::string& what) {
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj)) {
    throw ConfigError(what);
  }
  return py::reinterpret_borrow<py::sequence>(obj);
}

std::unique_ptr<MlpForward> MakeMlp(const py::handle& layers_obj, int64_t heads, bool simd) {
  const py::sequence layers =
      AsSequence(layers_obj, "layers must be a list of (weight, bias) pairs");
  std::vector<py::array_t<float, py::array::c_style>> keep;  // alive while the core copies
  std::vector<DenseLayerView> views;
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string at = "layers[" + std::to_string(l) + "]";
    const py::sequence pair = AsSequence(layers[l], at + " must be a (weight, bias) pair");
    if (pair.size() != 2) throw ConfigError(at + " must be a (weight, bias) pair");
    auto weight = AsArray<float>(pair[0], (at + ".weight").c_str(), "f");
    auto bias = AsArray<float>(pair[1], (at + ".bias").c_str(), "f");
    if (weight.ndim() != 2) {
      throw ConfigError(at + ".weight must have shape (out, in), got " +
                        ShapeStr(Shape(weight.shape(), weight.shape() + weight.ndim())));
    }
    CheckShape(bias, weight.shape(0), (at + ".bias").c_str());
    views.push_back({weight.data(), bias.data(), weight.shape(1), weight.shape(0)});
    keep.push_back(weight);
    keep.push_back(bias);
  }
  return std::make_unique<MlpForward>(views, heads, simd);
}

py::array_t<float> Call(const MlpForward& mlp, const py::handle& x_obj,
                        const py::handle& ids_obj) {
  auto x = AsArray<float>(x_obj, "x", "f");
  if (x.ndim() != 2 || x.shape(1) != mlp.in_dim()) {
    throw std::invalid_argument("x must have shape (n, " + std::to_string(mlp.in_dim()) +
                                "), got " + ShapeStr(Shape(x.shape(), x.shape() + x.ndim())));
  }
  const py::ssize_t n = x.shape(0);
  py::array_t<int64_t, py::array::c_style> ids;
  if (!ids_obj.is_none()) {
    ids = AsArray<int64_t>(ids_obj, "task_ids", "iu");
    CheckShape(ids, n, "task_ids");
  }
  const int64_t* id_data = ids_obj.is_none() ? nullptr : ids.data();
  py::array_t<float> out({n, static_cast<py::ssize_t>(mlp.head_dim())});
  float* dst = out.mutable_data();
  if (n >= kReleaseRows) {
    py::gil_scoped_release release;
    mlp.Forward(x.data(), n, id_data, dst);
  } else {
    mlp.Forward(x.data(), n, id_data, dst);
  }
  return out;
}

}  // namespace

void BindMlpForward(py::module_& m) {
  py::class_<MlpForward>(m, "MlpForward")
      .def(py::init(&MakeMlp), py::arg("layers"), py::arg("heads"), py::arg("simd") = true)
      .def("__call__", &Call, py::arg("x"), py::arg("task_ids") = py::none())
      .def_property_readonly("in_dim", &MlpForward::in_dim)
      .def_property_readonly("heads", &MlpForward::heads)
      .def_property_readonly("head_dim", &MlpForward::head_dim)
      .def_property_readonly("num_layers", &MlpForward::num_layers)
      .def_property_readonly("simd", &MlpForward::simd)
      .def_static("cpu_has_simd", &MlpForward::CpuHasSimd);
}

}  // namespace drats::bindings
