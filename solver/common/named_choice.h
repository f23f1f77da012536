// Turning a parameter's text into one of a few named values, with one
// message format for every such choice.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tpde
{
  /// The value named `name` among `choices`; throws std::invalid_argument
  /// "unknown <what> '<name>'; expected a, b or c" otherwise.
  template <typename Value>
  Value choose_by_name(const std::string                                  &what,
                       const std::string                                  &name,
                       const std::vector<std::pair<std::string, Value>> &choices)
  {
    std::string expected;
    for (std::size_t i = 0; i < choices.size(); ++i)
      {
        if (choices[i].first == name)
          return choices[i].second;
        expected += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i].first;
      }
    throw std::invalid_argument("unknown " + what + " '" + name + "'; expected " + expected);
  }
} // namespace tpde
