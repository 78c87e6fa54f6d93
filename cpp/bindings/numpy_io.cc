#include "bindings/numpy_io.h"

#include <string>

namespace drats::bindings {

std::string ShapeStr(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

Shape Prepend(py::ssize_t n, const Shape& tail) {
  Shape s{n};
  s.insert(s.end(), tail.begin(), tail.end());
  return s;
}

py::ssize_t Prod(const Shape& s) {
  py::ssize_t p = 1;
  for (auto d : s) p *= d;
  return p;
}

}  // namespace drats::bindings
