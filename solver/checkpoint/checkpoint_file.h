// A checkpoint: named records (numbers, counts, text) in one binary file,
// written atomically (temporary name, then rename) with a checksum, so a file
// named checkpoint_<step>.tpde is always complete and a damaged one is
// recognised. Plain C++: the grid and the particle run fill it with their own
// records (checkpoint/grid_state.h, run/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tpde
{
  class Checkpoint
  {
  public:
    void put(const std::string &name, double value) { numbers_[name] = {value}; }
    void put(const std::string &name, std::vector<double> values) { numbers_[name] = std::move(values); }
    void put_count(const std::string &name, std::uint64_t value) { counts_[name] = {value}; }
    void put_counts(const std::string &name, std::vector<std::uint64_t> values) { counts_[name] = std::move(values); }
    void put_text(const std::string &name, std::string value) { texts_[name] = std::move(value); }

    /// The record `name`; throws InputError naming `origin()` if it is missing.
    double                            number(const std::string &name) const;
    const std::vector<double>        &numbers(const std::string &name) const;
    std::uint64_t                     count(const std::string &name) const;
    const std::vector<std::uint64_t> &counts(const std::string &name) const;
    const std::string                &text(const std::string &name) const;
    bool has(const std::string &name) const
    {
      return numbers_.count(name) || counts_.count(name) || texts_.count(name);
    }

    /// Where it was read from (for messages), empty for a new one.
    const std::string &origin() const { return origin_; }

    std::string serialize() const;
    /// Throws InputError "<origin>: ..." if `bytes` is not a complete checkpoint.
    static Checkpoint parse(const std::string &bytes, const std::string &origin);

  private:
    std::map<std::string, std::vector<double>>        numbers_;
    std::map<std::string, std::vector<std::uint64_t>> counts_;
    std::map<std::string, std::string>                texts_;
    std::string                                       origin_;
  };

  /// The checkpoints of a run: <output folder>/checkpoints/checkpoint_<step>.tpde.
  class CheckpointFolder
  {
  public:
    explicit CheckpointFolder(std::filesystem::path output_directory);

    /// Writes `checkpoint` as the one of step `step` atomically, then deletes
    /// all but the newest `keep`. Throws std::runtime_error.
    void write(unsigned long step, const Checkpoint &checkpoint, unsigned int keep) const;

    /// Complete checkpoint files, oldest first (left-over temporary files are ignored).
    std::vector<std::filesystem::path> files() const;

    /// The newest checkpoint; throws InputError naming `where` if there is none
    /// or it is damaged.
    Checkpoint read_newest(const std::string &where) const;

    const std::filesystem::path &path() const { return folder; }

  private:
    std::filesystem::path folder;
  };
} // namespace tpde
