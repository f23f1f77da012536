// How a component declares and reads its own entries of a parameter file,
// without knowing the file format (plain C++, so that attention variants and
// the particle code can own their entries too). solver/parameters/ maps these
// onto deal.II's ParameterHandler: declarations become declare_entry calls
// (patterns are checked while the file is parsed), and an EntryReader reads
// one subsection with uniform one-line error messages.
#pragma once

#include "common/choices.h"
#include "common/errors.h"
#include "common/matrix.h"

#include <functional>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

namespace tpde
{
  /// What an entry accepts; checked by the file reader before any component
  /// reads the value.
  struct EntryPattern
  {
    enum class Kind
    {
      anything,
      integer,
      real,
      boolean,
      selection
    };
    Kind        kind    = Kind::anything;
    double      lower   = -std::numeric_limits<double>::max();
    double      upper   = std::numeric_limits<double>::max();
    std::string options; // selection: "a|b|c"

    static EntryPattern anything() { return {}; }
    static EntryPattern integer(double lower = std::numeric_limits<int>::min(),
                                double upper = std::numeric_limits<int>::max())
    {
      return {Kind::integer, lower, upper, {}};
    }
    static EntryPattern real(double lower = -std::numeric_limits<double>::max(),
                             double upper = std::numeric_limits<double>::max())
    {
      return {Kind::real, lower, upper, {}};
    }
    static EntryPattern boolean() { return {Kind::boolean, 0, 0, {}}; }
    static EntryPattern selection(const std::string &options) { return {Kind::selection, 0, 0, options}; }

    /// What is wrong with `text` for this pattern ("expected ..., got ..."); empty if it matches. For values
    /// the file reader cannot check (one part of a per-layer entry).
    std::string mismatch(const std::string &text) const;
  };

  struct EntryDeclaration
  {
    std::string  name;
    std::string  default_value;
    EntryPattern pattern;
    std::string  documentation;
  };

  /// The entries a component declares in its subsection.
  class EntryDeclarations
  {
  public:
    void declare(const std::string &name, const std::string &default_value, const EntryPattern &pattern,
                 const std::string &documentation);

    /// A selection entry whose options and their documentation come from `choices`.
    template <typename Value>
    void declare_choice(const std::string &name, const std::string &default_value,
                        const Choices<Value> &choices, const std::string &documentation)
    {
      declare(name, default_value, EntryPattern::selection(choices.pattern()),
              documentation + (documentation.empty() ? "" : " ") + choices.documentation());
    }

    const std::vector<EntryDeclaration> &entries() const { return declared; }

  private:
    std::vector<EntryDeclaration> declared;
  };

  /// Reads the entries of one subsection of one file. Every failure is an
  /// InputError "FILE: subsection 'S', entry 'E': what was expected".
  class EntryReader
  {
  public:
    using Getter = std::function<std::string(const std::string &)>;
    using Setter = std::function<void(const std::string &, const std::string &)>;

    /// `get` returns an entry's text; `set` (optional) replaces it in the
    /// record of the run (parameters.prm), e.g. a path made absolute.
    EntryReader(std::string file, std::string subsection, Getter get, Setter set = {});

    /// Records `value` as the entry's value in parameters.prm.
    void record(const std::string &entry, const std::string &value) const;

    [[noreturn]] void fail(const std::string &entry, const std::string &expected) const;

    const std::string &file() const { return file_name; }
    const std::string &subsection() const { return subsection_name; }
    /// "FILE: subsection 'S'" and the qualifier, if any: where a message about the subsection starts.
    std::string where() const;

    /// A reader of the same subsection whose entries come from `get` (no
    /// record) and whose messages name `qualifier` after the subsection (e.g.
    /// "layer 2 of 3"; empty: nothing).
    EntryReader part(std::string qualifier, Getter get) const;

    std::string text(const std::string &entry) const;
    /// The text without leading and trailing white space.
    std::string trimmed(const std::string &entry) const;
    bool        is_empty(const std::string &entry) const;
    double      real(const std::string &entry) const;
    long        integer(const std::string &entry) const;
    bool        boolean(const std::string &entry) const;

    /// `size` numbers separated by ','; one number stands for every direction.
    std::vector<double> vector(const std::string &entry, unsigned int size) const;
    /// Any number of numbers separated by ','.
    std::vector<double> numbers(const std::string &entry) const;
    /// Rows separated by ';', entries by ','. Empty text is the identity of
    /// size `square_default` when that is positive.
    Matrix matrix(const std::string &entry, unsigned int square_default = 0) const;
    /// A symmetric positive definite dim x dim matrix (empty: the identity).
    Matrix covariance(const std::string &entry, unsigned int dim) const;
    /// Items separated by `separator`, trimmed.
    std::vector<std::string> items(const std::string &entry, char separator) const;

    template <typename Value>
    const Value &choice(const std::string &entry, const Choices<Value> &choices) const
    {
      try
        {
          return choices(text(entry));
        }
      catch (const std::invalid_argument &e)
        {
          fail(entry, e.what());
        }
    }

  private:
    std::string                                      file_name;
    std::string                                      subsection_name;
    std::string                                      qualifier_text;
    Getter                                           get;
    Setter                                           set;
  };

  /// "2 x 3".
  std::string matrix_shape(const Matrix &m);

  /// The value of a scalar entry as the field's type (bool, whole numbers,
  /// double, std::string).
  template <typename Field>
  Field read_value(const EntryReader &r, const std::string &entry)
  {
    if constexpr (std::is_same_v<Field, bool>)
      return r.boolean(entry);
    else if constexpr (std::is_same_v<Field, std::string>)
      return r.text(entry);
    else if constexpr (std::is_integral_v<Field>)
      return static_cast<Field>(r.integer(entry));
    else
      return r.real(entry);
  }

  /// A component's scalar entries written once: each binds a name, default,
  /// pattern and documentation to a field of the component's parameter
  /// struct, and the same table declares the entries and reads them.
  template <typename Struct>
  class EntryTable
  {
  public:
    template <typename Field>
    EntryTable &add(const std::string &name, Field Struct::*field, const std::string &default_value,
                    const EntryPattern &pattern, const std::string &documentation)
    {
      rows.push_back({{name, default_value, pattern, documentation},
                      [name, field](const EntryReader &r, Struct &s) { s.*field = read_value<Field>(r, name); }});
      return *this;
    }

    /// An entry whose value is one of `choices` (kept alive by the caller:
    /// choices are function-local statics).
    template <typename Field>
    EntryTable &add_choice(const std::string &name, Field Struct::*field, const std::string &default_value,
                           const Choices<Field> &choices, const std::string &documentation)
    {
      rows.push_back({{name, default_value, EntryPattern::selection(choices.pattern()),
                       documentation + (documentation.empty() ? "" : " ") + choices.documentation()},
                      [name, field, &choices](const EntryReader &r, Struct &s) { s.*field = r.choice(name, choices); }});
      return *this;
    }

    void declare(EntryDeclarations &entries) const
    {
      for (const Row &row : rows)
        entries.declare(row.declaration.name, row.declaration.default_value, row.declaration.pattern,
                        row.declaration.documentation);
    }

    void read(const EntryReader &r, Struct &s) const
    {
      for (const Row &row : rows)
        row.read(r, s);
    }

  private:
    struct Row
    {
      EntryDeclaration                                 declaration;
      std::function<void(const EntryReader &, Struct &)> read;
    };
    std::vector<Row> rows;
  };

  /// Base of a parameter struct whose entries are its EntryTable
  /// (`static const EntryTable<Struct> &entry_table()`): declares and reads
  /// them, then runs `check` (the struct's checks across entries, which hides
  /// this empty one).
  template <typename Struct>
  struct TabledParameters
  {
    static void declare(EntryDeclarations &entries) { Struct::entry_table().declare(entries); }

    static Struct read(const EntryReader &r)
    {
      Struct s;
      Struct::entry_table().read(r, s);
      s.check(r);
      return s;
    }

    void check(const EntryReader &) const {}
  };
} // namespace tpde
