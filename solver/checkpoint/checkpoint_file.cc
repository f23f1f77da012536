#include "checkpoint/checkpoint_file.h"

#include "common/errors.h"
#include "output/run_output.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace tpde
{
  namespace
  {
    constexpr char          magic[8] = {'T', 'P', 'D', 'E', 'C', 'K', 'P', 'T'};
    constexpr std::uint32_t version  = 1;

    enum Kind : std::uint8_t
    {
      numbers_kind = 0,
      counts_kind  = 1,
      text_kind    = 2
    };

    /// FNV-1a: detects truncation and damage (not an adversary).
    std::uint64_t checksum(const char *data, std::size_t size)
    {
      std::uint64_t hash = 14695981039346656037ull;
      for (std::size_t i = 0; i < size; ++i)
        hash = (hash ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
      return hash;
    }

    template <typename T>
    void append(std::string &out, const T &value)
    {
      out.append(reinterpret_cast<const char *>(&value), sizeof(T));
    }

    void append_record(std::string &out, Kind kind, const std::string &name, const void *data, std::uint64_t count,
                       std::size_t element_size)
    {
      append(out, kind);
      append(out, static_cast<std::uint32_t>(name.size()));
      out += name;
      append(out, count);
      out.append(static_cast<const char *>(data), count * element_size);
    }

    /// Reads from a byte range, failing with InputError on a short read.
    class Cursor
    {
    public:
      Cursor(const std::string &bytes, std::size_t begin, std::size_t end, const std::string &origin)
        : bytes(bytes), at(begin), end(end), origin(origin)
      {}
      template <typename T>
      T get()
      {
        T value;
        std::memcpy(&value, take(sizeof(T)), sizeof(T));
        return value;
      }
      const char *take(std::uint64_t size)
      {
        if (size > end - at)
          throw InputError(origin + ": damaged checkpoint (a record runs past the end)");
        const char *data = bytes.data() + at;
        at += size;
        return data;
      }
      bool done() const { return at == end; }

    private:
      const std::string &bytes;
      std::size_t        at, end;
      const std::string &origin;
    };

    template <typename Map>
    const typename Map::mapped_type &lookup(const Map &map, const std::string &name, const std::string &origin)
    {
      const auto found = map.find(name);
      if (found == map.end())
        throw InputError((origin.empty() ? std::string("checkpoint") : origin) + ": incompatible checkpoint (no record '" +
                         name + "'; written by another version of tpde?)");
      return found->second;
    }
  } // namespace

  double Checkpoint::number(const std::string &name) const
  {
    const auto &values = numbers(name);
    if (values.size() != 1)
      throw InputError(origin_ + ": damaged checkpoint (record '" + name + "' is not one number)");
    return values.front();
  }

  const std::vector<double> &Checkpoint::numbers(const std::string &name) const
  {
    return lookup(numbers_, name, origin_);
  }

  std::uint64_t Checkpoint::count(const std::string &name) const
  {
    const auto &values = counts(name);
    if (values.size() != 1)
      throw InputError(origin_ + ": damaged checkpoint (record '" + name + "' is not one count)");
    return values.front();
  }

  const std::vector<std::uint64_t> &Checkpoint::counts(const std::string &name) const
  {
    return lookup(counts_, name, origin_);
  }

  const std::string &Checkpoint::text(const std::string &name) const
  {
    return lookup(texts_, name, origin_);
  }

  std::string Checkpoint::serialize() const
  {
    std::string payload;
    append(payload, static_cast<std::uint32_t>(numbers_.size() + counts_.size() + texts_.size()));
    for (const auto &[name, values] : numbers_)
      append_record(payload, numbers_kind, name, values.data(), values.size(), sizeof(double));
    for (const auto &[name, values] : counts_)
      append_record(payload, counts_kind, name, values.data(), values.size(), sizeof(std::uint64_t));
    for (const auto &[name, value] : texts_)
      append_record(payload, text_kind, name, value.data(), value.size(), 1);

    std::string out(magic, sizeof magic);
    append(out, version);
    append(out, static_cast<std::uint64_t>(payload.size()));
    out += payload;
    append(out, checksum(payload.data(), payload.size()));
    return out;
  }

  Checkpoint Checkpoint::parse(const std::string &bytes, const std::string &origin)
  {
    const std::size_t header = sizeof magic + sizeof(std::uint32_t) + sizeof(std::uint64_t);
    if (bytes.size() < header + sizeof(std::uint64_t) || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
      throw InputError(origin + ": not a tpde checkpoint (expected a file written by tpde with Checkpoint/interval)");
    Cursor head(bytes, sizeof magic, header, origin);
    const auto file_version = head.get<std::uint32_t>();
    const auto size         = head.get<std::uint64_t>();
    if (file_version != version)
      throw InputError(origin + ": incompatible checkpoint (format version " + std::to_string(file_version) +
                       ", this tpde reads version " + std::to_string(version) + ")");
    if (size != bytes.size() - header - sizeof(std::uint64_t))
      throw InputError(origin + ": damaged checkpoint (expected " + std::to_string(size) + " bytes of records, got " +
                       std::to_string(bytes.size() - header) + " bytes after the header)");
    std::uint64_t stored;
    std::memcpy(&stored, bytes.data() + header + size, sizeof stored);
    if (stored != checksum(bytes.data() + header, size))
      throw InputError(origin + ": damaged checkpoint (checksum mismatch)");

    Checkpoint checkpoint;
    checkpoint.origin_ = origin;
    Cursor     records(bytes, header, header + size, origin);
    const auto n = records.get<std::uint32_t>();
    for (std::uint32_t r = 0; r < n; ++r)
      {
        const auto        kind  = records.get<std::uint8_t>();
        const auto        chars = records.get<std::uint32_t>();
        const std::string name(records.take(chars), chars);
        const auto        count = records.get<std::uint64_t>();
        const std::size_t width = kind == text_kind ? 1 : 8;
        if (count > size / width)
          throw InputError(origin + ": damaged checkpoint (record '" + name + "' is too long)");
        const char *data = records.take(count * width);
        if (kind == numbers_kind)
          {
            std::vector<double> values(count);
            if (count > 0) // an empty vector's data() may be null (UBSan)
              std::memcpy(values.data(), data, count * width);
            checkpoint.numbers_[name] = std::move(values);
          }
        else if (kind == counts_kind)
          {
            std::vector<std::uint64_t> values(count);
            if (count > 0) // an empty vector's data() may be null (UBSan)
              std::memcpy(values.data(), data, count * width);
            checkpoint.counts_[name] = std::move(values);
          }
        else if (kind == text_kind)
          checkpoint.texts_[name] = std::string(data, count);
        else
          throw InputError(origin + ": damaged checkpoint (unknown record kind)");
      }
    if (!records.done())
      throw InputError(origin + ": damaged checkpoint (bytes after the last record)");
    return checkpoint;
  }

  CheckpointFolder::CheckpointFolder(std::filesystem::path output_directory)
    : folder(std::move(output_directory) / "checkpoints")
  {}

  void CheckpointFolder::write(unsigned long step, const Checkpoint &checkpoint, unsigned int keep) const
  {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error)
      throw std::runtime_error("cannot create " + folder.string() + ": " + error.message());
    char name[48];
    std::snprintf(name, sizeof name, "checkpoint_%09lu.tpde", step);
    write_file_atomically((folder / name).string(), checkpoint.serialize());
    const auto complete = files();
    for (std::size_t i = 0; i + keep < complete.size(); ++i)
      std::filesystem::remove(complete[i], error);
  }

  std::vector<std::filesystem::path> CheckpointFolder::files() const
  {
    static const std::regex            name(R"(checkpoint_\d{9,}\.tpde)");
    std::vector<std::filesystem::path> found;
    std::error_code                    error;
    if (!std::filesystem::is_directory(folder, error))
      return found;
    for (const auto &entry : std::filesystem::directory_iterator(folder, error))
      if (entry.is_regular_file(error) && std::regex_match(entry.path().filename().string(), name))
        found.push_back(entry.path());
    // Equal-width step numbers sort by name; wider ones (steps >= 1e9) come later.
    std::sort(found.begin(), found.end(), [](const auto &a, const auto &b) {
      const auto sa = a.filename().string(), sb = b.filename().string();
      return sa.size() != sb.size() ? sa.size() < sb.size() : sa < sb;
    });
    return found;
  }

  Checkpoint CheckpointFolder::read_newest(const std::string &where) const
  {
    const auto complete = files();
    if (complete.empty())
      throw InputError(where + "no checkpoint to resume from in '" + folder.string() +
                       "' (expected checkpoint_<step>.tpde written by a run with Checkpoint/interval or "
                       "wall interval > 0)");
    const auto    &newest = complete.back();
    std::ifstream  in(newest, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in)
      throw InputError(where + "cannot read '" + newest.string() + "'");
    return Checkpoint::parse(bytes.str(), newest.string());
  }
} // namespace tpde
