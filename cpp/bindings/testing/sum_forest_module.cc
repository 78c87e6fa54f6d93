// drats._core_testing: the sum forest bound alone, so that tests can drive it operation by
// operation. For tests only; the production module drats._core does not expose it. Each call
// checks every argument before it touches the forest (the core leaves those checks to its
// callers), so a bad call raises a drats error instead of reaching undefined behaviour.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "bindings/error_mapping.h"
#include "bindings/numpy_io.h"
#include "drats/sum_forest.h"

namespace drats::bindings {
namespace {

class PySumForest {
 public:
  PySumForest(int64_t num_trees, int64_t capacity) : forest_(num_trees, capacity) {}

  void Set(int64_t tree, int64_t i, double value) {
    CheckLeaf(tree, i);
    CheckValue(value);
    forest_.Set(tree, i, value);
  }
  void SetBatch(int64_t tree, const py::handle& slots_obj, const py::handle& values_obj) {
    auto slots = AsArray<int64_t>(slots_obj, "slots", "iu");
    auto values = AsArray<double>(values_obj, "values", "fiu");
    if (slots.ndim() != 1) throw std::invalid_argument("slots must be 1-D");
    CheckShape(values, slots.shape(0), "values");
    for (py::ssize_t j = 0; j < slots.size(); ++j) {
      CheckLeaf(tree, slots.data()[j]);
      CheckValue(values.data()[j]);
    }
    if (slots.size() == 0) CheckLeaf(tree, 0);
    forest_.SetBatch(tree, slots.data(), values.data(), slots.size());
  }
  double Get(int64_t tree, int64_t i) const {
    CheckLeaf(tree, i);
    return forest_.Get(tree, i);
  }
  double Total(int64_t tree) const {
    CheckLeaf(tree, 0);
    return forest_.total(tree);
  }
  int64_t Find(int64_t tree, double u) const {
    CheckQuery(tree, u);
    return forest_.Find(tree, u);
  }
  py::array_t<int64_t> FindStratified(const py::handle& counts_obj, const py::handle& u_obj) const {
    auto counts = AsArray<int64_t>(counts_obj, "counts", "iu");
    auto u = AsArray<double>(u_obj, "u", "fiu");
    CheckShape(counts, static_cast<py::ssize_t>(forest_.num_trees()), "counts");
    py::ssize_t n = 0;
    for (int64_t t = 0; t < forest_.num_trees(); ++t) n += counts.data()[t];
    CheckShape(u, n, "u");
    std::vector<int64_t> trees(n);
    for (int64_t t = 0, j = 0; t < forest_.num_trees(); ++t) {
      for (int64_t c = 0; c < counts.data()[t]; ++c, ++j) {
        CheckQuery(t, u.data()[j]);
        trees[j] = t;
      }
    }
    std::vector<double> scratch(u.data(), u.data() + u.size());
    py::array_t<int64_t> out(n);
    forest_.FindStratified(counts.data(), trees.data(), scratch.data(), out.mutable_data());
    return out;
  }
  py::array_t<int64_t> FindBatch(const py::handle& trees_obj, const py::handle& u_obj) const {
    auto trees = AsArray<int64_t>(trees_obj, "trees", "iu");
    auto u = AsArray<double>(u_obj, "u", "fiu");
    if (trees.ndim() != 1) throw std::invalid_argument("trees must be 1-D");
    CheckShape(u, trees.shape(0), "u");
    for (py::ssize_t j = 0; j < u.size(); ++j) CheckQuery(trees.data()[j], u.data()[j]);
    std::vector<double> scratch(u.data(), u.data() + u.size());
    py::array_t<int64_t> out(u.size());
    forest_.FindBatch(trees.data(), scratch.data(), u.size(), out.mutable_data());
    return out;
  }

 private:
  void CheckLeaf(int64_t tree, int64_t i) const {
    if (tree < 0 || tree >= forest_.num_trees()) throw std::out_of_range("tree out of range");
    if (i < 0 || i >= forest_.capacity()) throw std::out_of_range("leaf index out of range");
  }
  static void CheckValue(double value) {
    if (!(std::isfinite(value) && value >= 0.0)) {
      throw std::invalid_argument("value must be finite and >= 0");
    }
  }
  void CheckQuery(int64_t tree, double u) const {
    CheckLeaf(tree, 0);
    if (!(forest_.total(tree) > 0.0)) throw std::invalid_argument("the tree is empty (total 0)");
    if (!(std::isfinite(u) && u >= 0.0)) throw std::invalid_argument("u must be finite, >= 0");
  }

  drats::SumForest forest_;
};

void BindSumForest(py::module_& m) {
  py::class_<PySumForest>(m, "SumForest")
      .def(py::init<int64_t, int64_t>(), py::arg("num_trees"), py::arg("capacity"))
      .def("set", &PySumForest::Set, py::arg("tree"), py::arg("index"), py::arg("value"))
      .def("set_batch", &PySumForest::SetBatch, py::arg("tree"), py::arg("slots"),
           py::arg("values"))
      .def("get", &PySumForest::Get, py::arg("tree"), py::arg("index"))
      .def("total", &PySumForest::Total, py::arg("tree"))
      .def("find", &PySumForest::Find, py::arg("tree"), py::arg("u"))
      .def("find_batch", &PySumForest::FindBatch, py::arg("trees"), py::arg("u"))
      .def("find_stratified", &PySumForest::FindStratified, py::arg("counts"), py::arg("u"));
}

}  // namespace
}  // namespace drats::bindings

PYBIND11_MODULE(_core_testing, m) {
  m.doc() =
      "drats C++ sum forest, bound operation by operation. Exists for tests only: not part of "
      "the drats API, and the production module drats._core does not expose it";
  // Module-local: a production call never meets this translator, whatever the import order.
  pybind11::register_local_exception_translator(&drats::bindings::TranslateErrors);
  drats::bindings::BindSumForest(m);
}
