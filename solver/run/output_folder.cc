#include "run/output_folder.h"

#include "common/errors.h"

#include <regex>

namespace tpde
{
  namespace fs = std::filesystem;

  namespace
  {
    void collect(const fs::path &directory, const std::regex &names, std::vector<fs::path> &files)
    {
      std::error_code ec;
      if (!fs::is_directory(directory, ec))
        return;
      for (const auto &entry : fs::directory_iterator(directory, ec))
        if (entry.is_regular_file(ec) && std::regex_match(entry.path().filename().string(), names))
          files.push_back(entry.path());
    }
  } // namespace

  std::vector<fs::path> previous_run_files(const fs::path &directory, RunKind kind)
  {
    std::vector<fs::path> files;
    static const std::regex grid(R"(statistics\.csv|parameters\.prm|solution\.pvd|solution_\d+(\.\d+)?\.(vtu|pvtu))");
    static const std::regex particles(R"(statistics\.csv|parameters\.prm|particles\.pvd|particles_\d+\.vtp)");
    // A particle run in <directory>/particles is its own run (compared with
    // this one by tpde-compare): the grid run neither refuses nor removes it.
    collect(directory, kind == RunKind::grid ? grid : particles, files);
    std::sort(files.begin(), files.end());
    return files;
  }

  void refuse_previous_run(const std::vector<fs::path> &files, const std::string &where, const std::string &directory,
                           bool overwrite)
  {
    if (files.empty() || overwrite)
      return;
    std::string names;
    for (std::size_t i = 0; i < files.size() && i < 3; ++i)
      names += (i ? ", " : "") + fs::relative(files[i], directory).string();
    if (files.size() > 3)
      names += " and " + std::to_string(files.size() - 3) + " more";
    throw InputError(where + "'" + directory + "' holds the files of a previous run (" + names +
                     "); expected an empty or new folder, or --overwrite to remove those files first");
  }

  void remove_previous_run(const std::vector<fs::path> &files)
  {
    std::error_code ec;
    for (const fs::path &file : files)
      fs::remove(file, ec);
    for (const fs::path &file : files)
      if (file.parent_path().filename() == "particles" && fs::is_empty(file.parent_path(), ec))
        fs::remove(file.parent_path(), ec);
  }
} // namespace tpde
