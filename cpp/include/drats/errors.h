// Exceptions of the C++ core. The binding maps them onto drats.domain.errors:
// ConfigError -> ConfigError, EmptyTaskError -> EmptyTaskError, any other
// std::invalid_argument -> InvalidInputError, std::out_of_range -> UnknownTaskError.
#ifndef DRATS_ERRORS_H_
#define DRATS_ERRORS_H_

#include <stdexcept>
#include <string>

namespace drats {

// A constructor setting is outside its valid range.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Transitions were requested from a task that holds none.
class EmptyTaskError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace drats

#endif  // DRATS_ERRORS_H_
