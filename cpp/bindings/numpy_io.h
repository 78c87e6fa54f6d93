// numpy arrays in and out of the binding: dtype-checked conversion, shape checks and
// copy-free hand-over of C++ vectors. Needs the GIL throughout.
#ifndef DRATS_BINDINGS_NUMPY_IO_H_
#define DRATS_BINDINGS_NUMPY_IO_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/error_mapping.h"

namespace drats::bindings {

namespace py = pybind11;

using Shape = std::vector<py::ssize_t>;

// "(2, 3)", "(4,)", "()": a shape as numpy prints it.
std::string ShapeStr(const Shape& s);
// (n, *tail).
Shape Prepend(py::ssize_t n, const Shape& tail);
// The number of elements of shape `s` (1 for ()).
py::ssize_t Prod(const Shape& s);

// np.asarray(obj) with its dtype kind checked against `kinds` (e.g. "iu"), then converted to a
// C-contiguous array of T. An object that already is one is returned as is: no copy, no
// conversion. Throws DtypeError naming `name` if obj is not array-like or of another kind.
template <typename T>
py::array_t<T, py::array::c_style> AsArray(const py::handle& obj, const char* name,
                                           const char* kinds) {
  if (py::array_t<T, py::array::c_style>::check_(obj)) {
    return py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(obj);
  }
  py::array a = py::array::ensure(obj);
  if (!a) throw DtypeError(std::string(name) + " must be array-like");
  const char kind = a.dtype().kind();
  if (std::string(kinds).find(kind) == std::string::npos) {
    throw DtypeError(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                     "; expected a dtype of kind '" + kinds + "'");
  }
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

// Checks that `a` has shape (n, *tail), else throws std::invalid_argument naming `name` and
// both shapes. Allocates nothing unless it throws.
template <typename T>
void CheckShape(const py::array_t<T, py::array::c_style>& a, py::ssize_t n, const Shape& tail,
                const char* name) {
  // Compared in place: on the per-step calls (add of one vector step) building the shapes as
  // vectors cost more than the copy.
  bool ok = a.ndim() == static_cast<py::ssize_t>(tail.size()) + 1 && a.shape(0) == n;
  for (size_t i = 0; ok && i < tail.size(); ++i) ok = a.shape(i + 1) == tail[i];
  if (!ok) {
    throw std::invalid_argument(std::string(name) + " must have shape " +
                                ShapeStr(Prepend(n, tail)) + ", got " +
                                ShapeStr(Shape(a.shape(), a.shape() + a.ndim())));
  }
}

// Checks that `a` is 1-D of length n, as above.
template <typename T>
void CheckShape(const py::array_t<T, py::array::c_style>& a, py::ssize_t n, const char* name) {
  static const Shape kNoTail;
  CheckShape(a, n, kNoTail, name);
}

// An array of `shape` that takes over v's memory without copying (freed with the array).
// Precondition: v.size() == Prod(shape).
template <typename T>
py::array_t<T> Adopt(std::vector<T>&& v, const Shape& shape) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

// A copy of AsArray<T>(obj, name, kinds) flattened in C order; throws as AsArray.
template <typename T>
std::vector<T> ToVector(const py::handle& obj, const char* name, const char* kinds) {
  auto a = AsArray<T>(obj, name, kinds);
  return std::vector<T>(a.data(), a.data() + a.size());
}

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_NUMPY_IO_H_
