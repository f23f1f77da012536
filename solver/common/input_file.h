// Reading a user's input file whole (parameter file, weights file) with the
// project's one-line InputError on failure, and quoting its text in such a line. Plain C++.
#pragma once

#include <string>

namespace tpde
{
  /// The contents of `file` (`what`: "parameter file", "weights file"); pipes are fine, a folder or an
  /// unreadable file is an InputError "FILE: ...".
  std::string read_input_file(const std::string &file, const std::string &what);

  /// `text` with control characters as \xNN, so that a name from the input (a command-line argument, a
  /// JSON key) keeps a message on one line.
  std::string printable(const std::string &text);
} // namespace tpde
