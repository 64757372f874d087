#pragma once
// Host-side error type. Every failure that reaches the user carries a message
// naming the input and the problem; the CLI prints it and exits non-zero.
#include <stdexcept>
#include <string>

namespace msprune {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace msprune
