// How C++ exceptions reach Python: each one becomes the drats.domain.errors class of its kind,
// with the C++ message unchanged.
#ifndef DRATS_BINDINGS_ERROR_MAPPING_H_
#define DRATS_BINDINGS_ERROR_MAPPING_H_

#include <exception>
#include <stdexcept>

namespace drats::bindings {

// An argument whose dtype cannot be converted safely (becomes InvalidDtypeError).
class DtypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// An exception translator for py::register_exception_translator (or its module-local twin).
// Sets the Python error, most specific class first:
//   drats::ConfigError -> ConfigError, drats::EmptyTaskError -> EmptyTaskError,
//   DtypeError -> InvalidDtypeError, std::out_of_range -> UnknownTaskError,
//   any other std::invalid_argument -> InvalidInputError.
// Any other exception is rethrown, for the next translator.
void TranslateErrors(std::exception_ptr p);

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_ERROR_MAPPING_H_
