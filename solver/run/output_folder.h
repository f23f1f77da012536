// Output folder hygiene: a run does not mix its files with another run's.
// A folder that holds a previous run's files is refused (InputError) unless
// the run may overwrite it, and then exactly those files are removed first,
// so no stale solution_*.vtu of a longer earlier run remain.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tpde
{
  enum class RunKind
  {
    grid,     // statistics.csv, parameters.prm, solution.pvd, solution_*.vtu/.pvtu, particles/ (a particle run)
    particles // statistics.csv, parameters.prm, particles.pvd, particles_*.vtp
  };

  /// The files of a previous run of this kind in `directory` (none if it does not exist).
  std::vector<std::filesystem::path> previous_run_files(const std::filesystem::path &directory, RunKind kind);

  /// Throws InputError "<where>: '<directory>' holds the files of a previous
  /// run (...); use --overwrite ..." when `files` is not empty and !overwrite.
  void refuse_previous_run(const std::vector<std::filesystem::path> &files, const std::string &where,
                           const std::string &directory, bool overwrite);

  /// Removes `files` (and a `particles` folder left empty by it).
  void remove_previous_run(const std::vector<std::filesystem::path> &files);

  /// A resumed run: removes the ParaView files of this kind that `outputs`
  /// (the .pvd series at the checkpoint) does not list, i.e. those the
  /// stopped run wrote after its checkpoint (with their .vtu pieces).
  void remove_outputs_not_in(const std::filesystem::path                     &directory, RunKind kind,
                             const std::vector<std::pair<double, std::string>> &outputs);
} // namespace tpde
