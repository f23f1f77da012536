// Reading a user's input file whole (parameter file, weights file) with the
// project's one-line InputError on failure. Plain C++.
#pragma once

#include <string>

namespace tpde
{
  /// The contents of `file` (`what`: "parameter file", "weights file"); pipes are fine, a folder or an
  /// unreadable file is an InputError "FILE: ...".
  std::string read_input_file(const std::string &file, const std::string &what);
} // namespace tpde
