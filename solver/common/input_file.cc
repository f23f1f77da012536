#include "common/input_file.h"

#include "common/errors.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tpde
{
  std::string read_input_file(const std::string &file, const std::string &what)
  {
    std::error_code ec;
    // Pipes (`tpde run <(...)`) are fine; a folder is not.
    if (std::filesystem::is_directory(file, ec))
      throw InputError(file + ": expected a " + what + ", got a folder");
    std::ifstream in(file);
    if (!in)
      throw InputError(file + ": cannot open the " + what);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string printable(const std::string &text)
  {
    std::string out;
    for (const unsigned char c : text)
      if (c < 32 || c == 127)
        {
          const char *hex = "0123456789abcdef";
          out += std::string("\\x") + hex[c / 16] + hex[c % 16];
        }
      else
        out += static_cast<char>(c);
    return out;
  }
} // namespace tpde
