#include "run/output_folder.h"

#include "common/errors.h"

#include <algorithm>
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
    static const std::regex grid(R"(statistics\.csv|statistics\.png|parameters\.prm|solution\.pvd|solution_\d+(\.\d+)?\.(vtu|pvtu))");
    static const std::regex particles(R"(statistics\.csv|statistics\.png|parameters\.prm|particles\.pvd|particles_\d+\.vtp)");
    static const std::regex checkpoints(R"(checkpoint_\d+\.tpde(\.tmp)?)");
    // A particle run in <directory>/particles is its own run (compared with
    // this one by tpde-compare): the grid run neither refuses nor removes it.
    collect(directory, kind == RunKind::grid ? grid : particles, files);
    collect(directory / "checkpoints", checkpoints, files);
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
      if ((file.parent_path().filename() == "particles" || file.parent_path().filename() == "checkpoints") &&
          fs::is_empty(file.parent_path(), ec))
        fs::remove(file.parent_path(), ec);
  }

  void remove_outputs_not_in(const fs::path &directory, RunKind kind,
                             const std::vector<std::pair<double, std::string>> &outputs)
  {
    // The stem (solution_00012) names an output with all its pieces.
    static const std::regex grid(R"((solution_\d+)(\.\d+)?\.(vtu|pvtu))");
    static const std::regex particles(R"((particles_\d+)\.vtp)");
    std::vector<fs::path> files;
    collect(directory, kind == RunKind::grid ? grid : particles, files);
    std::error_code ec;
    for (const fs::path &file : files)
      {
        std::smatch     match;
        const std::string name = file.filename().string();
        std::regex_match(name, match, kind == RunKind::grid ? grid : particles);
        const std::string stem = match[1].str() + ".";
        const bool kept = std::any_of(outputs.begin(), outputs.end(),
                                      [&](const auto &output) { return output.second.rfind(stem, 0) == 0; });
        if (!kept)
          fs::remove(file, ec);
      }
  }
} // namespace tpde
