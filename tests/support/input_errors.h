// The report of bad input as the tests expect it (tests/solver/test_bad_input.cc,
// test_weights_file.cc): exit code 2, one line naming the file and what was expected.
#pragma once

#include "support/test_support.h"

#include <algorithm>
#include <string>

namespace tpde::testing
{
  /// What is wrong with `result` as the report of bad input: exit code 2, exactly one line, naming
  /// `file` and, after it, containing `expected`, no stack trace. Empty if nothing.
  inline std::string input_error_problem(const CommandResult &result, const std::string &file,
                                         const std::string &expected)
  {
    std::string problems;
    if (result.exit_code != 2)
      problems += "exit code " + std::to_string(result.exit_code) + ", expected 2; ";
    if (std::count(result.output.begin(), result.output.end(), '\n') != 1)
      problems += "expected exactly one line; ";
    const auto file_at = result.output.rfind(file);
    if (file_at == std::string::npos)
      problems += "the message must name " + file + "; ";
    // The expectation must be met by the explanation, not by the path.
    else if (result.output.find(expected, file_at) == std::string::npos)
      problems += "expected '" + expected + "' after the file name; ";
    if (result.output.find("Stacktrace") != std::string::npos)
      problems += "a stack trace; ";
    return problems;
  }
} // namespace tpde::testing
