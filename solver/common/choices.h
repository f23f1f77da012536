// A closed set of named alternatives: the values a parameter entry may take,
// each with the documentation that reaches --print-parameters. Used for
// plain options (an enum per entry) and for registries of components (a
// struct of functions per entry), so that the code dispatches on the value,
// never on its name.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tpde
{
  template <typename Value>
  struct Named
  {
    std::string name;
    Value       value;
    std::string documentation;
  };

  template <typename Value>
  class Choices
  {
  public:
    Choices(std::vector<Named<Value>> items)
      : all(std::move(items))
    {}

    const std::vector<Named<Value>> &items() const { return all; }

    /// "a|b|c": the pattern of the entry.
    std::string pattern() const { return join("|", false); }

    /// "a: what a does. b: ...": appended to the entry's documentation.
    std::string documentation() const { return join(" ", true); }

    /// The value named `name`; throws std::invalid_argument naming the
    /// alternatives (the parameter patterns reject unknown names earlier).
    const Value &operator()(const std::string &name) const { return find(name).value; }

    const Named<Value> &find(const std::string &name) const
    {
      for (const auto &item : all)
        if (item.name == name)
          return item;
      throw std::invalid_argument("unknown choice '" + name + "'; expected one of: " + join(", ", false));
    }

    /// The name of an enum-like value (the first with that value).
    const std::string &name_of(const Value &value) const
    {
      for (const auto &item : all)
        if (item.value == value)
          return item.name;
      throw std::logic_error("a value without a name");
    }

  private:
    std::string join(const std::string &separator, bool with_documentation) const
    {
      std::string text;
      for (const auto &item : all)
        {
          text += (text.empty() ? "" : separator) + item.name;
          if (with_documentation && !item.documentation.empty())
            text += ": " + item.documentation;
        }
      return text;
    }

    std::vector<Named<Value>> all;
  };
} // namespace tpde
