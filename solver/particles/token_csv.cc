#include "particles/token_csv.h"

#include "common/matrix.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace tpde::particles
{
  namespace
  {
    std::string trim_lower(const std::string &text)
    {
      const auto first = text.find_first_not_of(" \t\r");
      if (first == std::string::npos)
        return "";
      const auto  last = text.find_last_not_of(" \t\r");
      std::string out  = text.substr(first, last - first + 1);
      for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    }

    std::string to_text(double value)
    {
      std::ostringstream s;
      s << value;
      return s.str();
    }

    std::vector<std::string> split_commas(const std::string &line)
    {
      std::vector<std::string> fields;
      std::size_t              start = 0;
      for (;;)
        {
          const auto comma = line.find(',', start);
          fields.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos)
            return fields;
          start = comma + 1;
        }
    }

    /// A time of the file times the time scale; both are finite, but the
    /// product may overflow (an infinite time has no place in a time series).
    double scaled_time(double time, double time_scale, const std::string &where)
    {
      const double scaled = time_scale * time;
      if (!std::isfinite(scaled))
        throw std::invalid_argument(where + "expected a time that stays finite when multiplied by the time scale " +
                                    to_text(time_scale) + ", got " + to_text(time));
      return scaled;
    }

    /// Rows of one file, grouped by time (`default_time` without a time column).
    std::map<double, std::vector<double>> read_file(const std::string &file, unsigned int dim, double default_time,
                                                    double time_scale, const TokenCheck &check)
    {
      std::ifstream in(file);
      if (!in)
        throw std::invalid_argument(file + ": cannot open the token file");
      const char *names[2][3] = {{"x", "y", "z"}, {"x0", "x1", "x2"}};
      std::vector<int> coordinate_column(dim, -1);
      int              time_column = -1;
      std::size_t      n_columns   = 0;
      std::map<double, std::vector<double>> rows;
      std::string line;
      bool        have_header = false;
      for (unsigned long line_number = 1; std::getline(in, line); ++line_number)
        {
          const std::string trimmed = trim_lower(line);
          if (trimmed.empty() || trimmed[0] == '#')
            continue;
          const auto fields = split_commas(line);
          const std::string where = file + ":" + std::to_string(line_number) + ": ";
          if (!have_header)
            {
              have_header = true;
              n_columns   = fields.size();
              for (std::size_t c = 0; c < fields.size(); ++c)
                {
                  const std::string name = trim_lower(fields[c]);
                  if (name == "time" || name == "t")
                    time_column = static_cast<int>(c);
                  for (const auto &set : names)
                    for (unsigned int a = 0; a < dim; ++a)
                      if (name == set[a])
                        coordinate_column[a] = static_cast<int>(c);
                }
              for (unsigned int a = 0; a < dim; ++a)
                if (coordinate_column[a] < 0)
                  throw std::invalid_argument(where + "expected a header naming the columns x, y, z (or x0, x1, "
                                              "x2; the first " + std::to_string(dim) + " for dimension " +
                                              std::to_string(dim) + "), got '" + line + "'");
              continue;
            }
          if (fields.size() != n_columns)
            throw std::invalid_argument(where + "expected " + std::to_string(n_columns) +
                                        " comma-separated fields as in the header, got " +
                                        std::to_string(fields.size()));
          const auto number = [&](int column) {
            const auto value = parse_number(fields[column]);
            if (!value)
              throw std::invalid_argument(where + "expected a number in column " + std::to_string(column + 1) +
                                          ", got '" + fields[column] + "'");
            return *value;
          };
          const double time = time_column >= 0 ? scaled_time(number(time_column), time_scale, where) : default_time;
          auto        &tokens = rows[time];
          for (unsigned int a = 0; a < dim; ++a)
            tokens.push_back(number(coordinate_column[a]));
          if (check)
            if (const std::string problem = check(&tokens[tokens.size() - dim]); !problem.empty())
              throw std::invalid_argument(where + problem);
        }
      if (!have_header)
        throw std::invalid_argument(file + ": expected a header line and token rows, the file is empty");
      if (rows.empty())
        throw std::invalid_argument(file + ": expected at least one token row after the header");
      return rows;
    }
  } // namespace

  std::vector<TokenSnapshot> read_token_csv(const std::string &path, unsigned int dim, double time_scale,
                                            const TokenCheck &check)
  {
    namespace fs = std::filesystem;
    std::map<double, std::vector<double>> all;
    const auto merge = [&](std::map<double, std::vector<double>> rows) {
      for (auto &[time, tokens] : rows)
        {
          auto &target = all[time];
          target.insert(target.end(), tokens.begin(), tokens.end());
        }
    };
    const auto star = path.find('*');
    if (star == std::string::npos)
      merge(read_file(path, dim, 0., time_scale, check));
    else
      {
        if (path.find('*', star + 1) != std::string::npos)
          throw std::invalid_argument(path + ": expected at most one '*' in the token file pattern");
        const fs::path    pattern(path);
        const std::string name = pattern.filename().string();
        const auto        name_star = name.find('*');
        if (name_star == std::string::npos)
          throw std::invalid_argument(path + ": the '*' must be in the file name, not in a folder name");
        const std::string prefix = name.substr(0, name_star), suffix = name.substr(name_star + 1);
        const fs::path    folder = pattern.parent_path().empty() ? fs::path(".") : pattern.parent_path();
        std::error_code   error;
        if (!fs::is_directory(folder, error))
          throw std::invalid_argument(path + ": folder '" + folder.string() + "' does not exist");
        // In name order, so that tokens of files with the same time keep one order.
        std::vector<fs::path> files;
        for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
          files.push_back(it->path());
        if (error)
          throw std::invalid_argument(path + ": cannot list folder '" + folder.string() + "': " + error.message());
        std::sort(files.begin(), files.end());
        std::size_t matched = 0;
        for (const auto &entry : files)
          {
            const std::string candidate = entry.filename().string();
            if (candidate.size() <= prefix.size() + suffix.size() || candidate.rfind(prefix, 0) != 0 ||
                candidate.compare(candidate.size() - suffix.size(), suffix.size(), suffix) != 0)
              continue;
            const auto index =
              parse_number(candidate.substr(prefix.size(), candidate.size() - prefix.size() - suffix.size()));
            if (!index)
              continue; // e.g. a backup copy next to the exported files
            ++matched;
            const std::string file = entry.string();
            merge(read_file(file, dim, scaled_time(*index, time_scale, file + ": the number in the file name: "),
                            time_scale, check));
          }
        if (matched == 0)
          throw std::invalid_argument(path + ": no file matches the pattern (with a number in place of '*')");
      }
    std::vector<TokenSnapshot> snapshots;
    for (auto &[time, tokens] : all)
      snapshots.push_back({time, std::move(tokens)});
    return snapshots;
  }
} // namespace tpde::particles
