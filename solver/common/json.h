// A small strict JSON reader (RFC 8259) for the weights file
// (attention/weights_file.h). The project has no JSON library among its
// Debian dependencies, and the weights file needs only plain values, so a
// reader of its own keeps the build unchanged. Plain C++, like the kernels.
//
// Strict: one value and nothing after it but white space; no comments, no
// trailing commas, no duplicate keys, no control characters in strings,
// nesting at most 64 deep (a hostile file cannot exhaust the stack).
// One deliberate extension: the tokens NaN, Infinity and -Infinity (which
// Python's json.dump writes for non-finite floats) parse as numbers, so that
// the weights reader refuses them naming the layer and the entry instead of a
// bare position. Numbers that overflow (1e999) become infinite for the same
// reason.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tpde::json
{
  struct Value
  {
    enum class Type
    {
      null,
      boolean,
      number,
      string,
      array,
      object
    };
    Type                                       type    = Type::null;
    bool                                       boolean = false;
    double                                     number  = 0.;
    std::string                                string;
    std::vector<Value>                         items;   // array
    std::vector<std::pair<std::string, Value>> members; // object, in file order
    unsigned int                               line   = 1; // where the value starts (from 1)
    unsigned int                               column = 1;

    /// The member `key` of an object, or nullptr.
    const Value *find(const std::string &key) const;
    /// "line L, column C".
    std::string where() const;
    /// "a number", "an object", ...
    std::string type_name() const;
  };

  /// The value of `text`. Throws std::invalid_argument "line L, column C:
  /// expected ..., got ..." on anything that is not strict JSON.
  Value parse(const std::string &text);
} // namespace tpde::json
