// The two ways a run ends early, shared by every layer.
//
// InputError: bad input. The message is one complete line naming the file,
// the entry and what was expected; the executable prints it and exits with 2.
// PhysicalFailure: the run stopped for a physical or numerical reason
// (non-finite density, collapsed time step, CFL failure); the output written
// so far is kept and the executable exits with 3.
#pragma once

#include <stdexcept>

namespace tpde
{
  class InputError : public std::runtime_error
  {
  public:
    using std::runtime_error::runtime_error;
  };

  class PhysicalFailure : public std::runtime_error
  {
  public:
    using std::runtime_error::runtime_error;
  };
} // namespace tpde
