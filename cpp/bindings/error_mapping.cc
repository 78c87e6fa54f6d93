#include "bindings/error_mapping.h"

#include <pybind11/pybind11.h>

#include "drats/errors.h"

namespace py = pybind11;

namespace drats::bindings {
namespace {

void RaiseDratsError(const char* name, const char* what) {
  py::object cls = py::module_::import("drats.domain.errors").attr(name);
  PyErr_SetString(cls.ptr(), what);
}

}  // namespace

void TranslateErrors(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const drats::ConfigError& e) {
    RaiseDratsError("ConfigError", e.what());
  } catch (const drats::EmptyTaskError& e) {
    RaiseDratsError("EmptyTaskError", e.what());
  } catch (const DtypeError& e) {
    RaiseDratsError("InvalidDtypeError", e.what());
  } catch (const std::out_of_range& e) {
    RaiseDratsError("UnknownTaskError", e.what());
  } catch (const std::invalid_argument& e) {
    RaiseDratsError("InvalidInputError", e.what());
  }
}

}  // namespace drats::bindings
