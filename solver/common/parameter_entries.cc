#include "common/parameter_entries.h"

#include <cmath>
#include <sstream>

namespace tpde
{
  namespace
  {
    std::string trim(const std::string &text)
    {
      const auto first = text.find_first_not_of(" \t\r\n");
      if (first == std::string::npos)
        return {};
      const auto last = text.find_last_not_of(" \t\r\n");
      return text.substr(first, last - first + 1);
    }

    /// Like deal.II's split_string_list: items trimmed, one trailing
    /// separator ignored, empty text gives no items.
    std::vector<std::string> split(const std::string &text, char separator)
    {
      std::string rest = trim(text);
      if (rest.empty())
        return {};
      if (rest.back() == separator)
        rest.pop_back();
      std::vector<std::string> parts;
      std::stringstream        in(rest);
      std::string              part;
      while (std::getline(in, part, separator))
        parts.push_back(trim(part));
      if (parts.empty() || (!rest.empty() && rest.back() == separator))
        parts.push_back({});
      return parts;
    }
  } // namespace

  std::string EntryPattern::mismatch(const std::string &text) const
  {
    const std::string value = trim(text);
    const auto        range = [this]() {
      std::ostringstream s;
      s.precision(17);
      s << " in [" << lower << ", " << upper << "]";
      return lower == -std::numeric_limits<double>::max() && upper == std::numeric_limits<double>::max() ?
               std::string() :
               s.str();
    };
    switch (kind)
      {
        case Kind::integer:
        case Kind::real: {
          const auto x       = parse_number(value);
          const bool whole   = kind == Kind::integer;
          if (!x || (whole && *x != std::floor(*x)) || *x < lower || *x > upper)
            return std::string("expected ") + (whole ? "a whole number" : "a number") + range() + ", got '" + value +
                   "'";
          return {};
        }
        case Kind::boolean:
          return value == "true" || value == "false" || value == "yes" || value == "no" ?
                   std::string() :
                   "expected true or false, got '" + value + "'";
        case Kind::selection:
          for (const auto &option : split(options, '|'))
            if (option == value)
              return {};
          return "expected one of " + options + ", got '" + value + "'";
        default:
          return {};
      }
  }

  void EntryDeclarations::declare(const std::string &name, const std::string &default_value,
                                  const EntryPattern &pattern, const std::string &documentation)
  {
    for (auto &entry : declared)
      if (entry.name == name)
        throw std::logic_error("entry '" + name + "' declared twice");
    declared.push_back({name, default_value, pattern, documentation});
  }

  EntryReader::EntryReader(std::string file, std::string subsection, Getter get, Setter set)
    : file_name(std::move(file))
    , subsection_name(std::move(subsection))
    , get(std::move(get))
    , set(std::move(set))
  {}

  void EntryReader::record(const std::string &entry, const std::string &value) const
  {
    if (set)
      set(entry, value);
  }

  std::string EntryReader::where() const
  {
    std::string text = file_name;
    if (!subsection_name.empty())
      text += ": subsection '" + subsection_name + "'";
    if (!qualifier_text.empty())
      text += (subsection_name.empty() ? ": " : ", ") + qualifier_text;
    return text;
  }

  EntryReader EntryReader::part(std::string qualifier, Getter getter) const
  {
    EntryReader reader(file_name, subsection_name, std::move(getter));
    reader.qualifier_text = std::move(qualifier);
    return reader;
  }

  void EntryReader::fail(const std::string &entry, const std::string &expected) const
  {
    const std::string at = where();
    throw InputError(at + (at == file_name ? ": " : ", ") + "entry '" + entry + "': " + expected);
  }

  std::string EntryReader::text(const std::string &entry) const
  {
    return get(entry);
  }

  std::string EntryReader::trimmed(const std::string &entry) const
  {
    return trim(text(entry));
  }

  bool EntryReader::is_empty(const std::string &entry) const
  {
    return trimmed(entry).empty();
  }

  // The file reader has checked the patterns, so these conversions succeed
  // for declared integer/real/boolean entries; a failure is a wrong pattern.
  double EntryReader::real(const std::string &entry) const
  {
    const auto value = parse_number(text(entry));
    if (!value)
      fail(entry, "expected a number, got '" + text(entry) + "'");
    return *value;
  }

  long EntryReader::integer(const std::string &entry) const
  {
    const double value = real(entry);
    if (value != std::floor(value))
      fail(entry, "expected a whole number, got '" + text(entry) + "'");
    return static_cast<long>(value);
  }

  bool EntryReader::boolean(const std::string &entry) const
  {
    const std::string value = trim(text(entry));
    if (value == "true" || value == "yes")
      return true;
    if (value == "false" || value == "no")
      return false;
    fail(entry, "expected true or false, got '" + value + "'");
  }

  std::vector<double> EntryReader::numbers(const std::string &entry) const
  {
    std::vector<double> v;
    for (const auto &item : split(text(entry), ','))
      {
        const auto x = parse_number(item);
        if (!x)
          fail(entry, "expected a list of numbers separated by ',', but '" + item + "' is not a number");
        v.push_back(*x);
      }
    return v;
  }

  std::vector<double> EntryReader::vector(const std::string &entry, unsigned int size) const
  {
    std::vector<double> v = numbers(entry);
    if (v.size() == 1 && size > 1)
      v.assign(size, v[0]); // one value stands for every direction
    if (v.size() != size)
      fail(entry, "expected " + std::to_string(size) + " numbers (one per dimension), got " +
                    std::to_string(v.size()));
    return v;
  }

  Matrix EntryReader::matrix(const std::string &entry, unsigned int square_default) const
  {
    if (is_empty(entry) && square_default > 0)
      return Matrix::identity(square_default);
    try
      {
        return Matrix::parse(text(entry));
      }
    catch (const std::invalid_argument &e)
      {
        fail(entry, std::string("expected a matrix with rows separated by ';' and entries by ',' (for "
                                "example '1, 0; 0, 1'), but ") +
                      e.what());
      }
  }

  Matrix EntryReader::covariance(const std::string &entry, unsigned int dim) const
  {
    const Matrix c = matrix(entry, dim);
    if (c.rows != dim || c.cols != dim)
      fail(entry, "expected a " + std::to_string(dim) + " x " + std::to_string(dim) +
                    " covariance matrix, got " + matrix_shape(c));
    if (!is_symmetric_positive_definite(c))
      fail(entry, "expected a symmetric positive definite covariance matrix, got '" + c.to_string() + "'");
    return c;
  }

  std::vector<std::string> EntryReader::items(const std::string &entry, char separator) const
  {
    return split(text(entry), separator);
  }

  std::string matrix_shape(const Matrix &m)
  {
    return std::to_string(m.rows) + " x " + std::to_string(m.cols);
  }
} // namespace tpde
