#include "checkpoint/run_state.h"

#include "common/errors.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace tpde
{
  void RunProgress::store(Checkpoint &checkpoint) const
  {
    checkpoint.put_count("step", step);
    checkpoint.put("time", time);
    checkpoint.put("next output", next_output);
    checkpoint.put("wall seconds", wall_seconds);
    checkpoint.put_count("statistics bytes", statistics_bytes);
    std::vector<double> times;
    std::string         files;
    for (const auto &[t, file] : outputs)
      {
        times.push_back(t);
        files += file + '\n';
      }
    checkpoint.put("output times", times);
    checkpoint.put_text("output files", files);
  }

  RunProgress RunProgress::load(const Checkpoint &checkpoint)
  {
    RunProgress progress;
    progress.step             = checkpoint.count("step");
    progress.time             = checkpoint.number("time");
    progress.next_output      = checkpoint.number("next output");
    progress.wall_seconds     = checkpoint.number("wall seconds");
    progress.statistics_bytes = checkpoint.count("statistics bytes");
    const auto        &times  = checkpoint.numbers("output times");
    std::istringstream files(checkpoint.text("output files"));
    std::string        file;
    for (const double t : times)
      {
        if (!std::getline(files, file))
          throw InputError(checkpoint.origin() + ": damaged checkpoint (fewer output files than output times)");
        progress.outputs.emplace_back(t, file);
      }
    return progress;
  }

  void store_parameters(Checkpoint &checkpoint, const std::string &kind, const std::string &as_prm)
  {
    checkpoint.put_text("run kind", kind);
    checkpoint.put_text("parameters", as_prm);
  }

  namespace
  {
    /// "Subsection/entry" -> value of a printed parameter file (nested
    /// subsections joined by '/').
    std::map<std::string, std::string> entries_of(const std::string &as_prm)
    {
      std::map<std::string, std::string> entries;
      std::vector<std::string>           path;
      std::istringstream                 in(as_prm);
      std::string                        line;
      const auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t\r") + 1);
        return s;
      };
      while (std::getline(in, line))
        {
          line = trim(line);
          if (line.rfind("subsection ", 0) == 0)
            path.push_back(trim(line.substr(11)));
          else if (line == "end" && !path.empty())
            path.pop_back();
          else if (line.rfind("set ", 0) == 0)
            {
              const auto equals = line.find('=');
              std::string key;
              for (const auto &s : path)
                key += s + "/";
              key += trim(line.substr(4, equals - 4));
              entries[key] = equals == std::string::npos ? "" : trim(line.substr(equals + 1));
            }
        }
      return entries;
    }
  } // namespace

  void check_same_parameters(const Checkpoint &checkpoint, const std::string &kind, const std::string &as_prm,
                             const std::string &file, const std::vector<std::string> &free_sections,
                             const std::vector<std::string> &free_entries)
  {
    const std::string where = file + ": cannot resume from " + checkpoint.origin() + ": ";
    if (checkpoint.text("run kind") != kind)
      throw InputError(where + "it is the checkpoint of a " + checkpoint.text("run kind") + " run, not of a " + kind +
                       " run");
    const auto then = entries_of(checkpoint.text("parameters"));
    const auto now  = entries_of(as_prm);
    const auto is_free = [&](const std::string &key) {
      if (std::find(free_entries.begin(), free_entries.end(), key) != free_entries.end())
        return true;
      return std::any_of(free_sections.begin(), free_sections.end(),
                         [&](const std::string &s) { return key.rfind(s + "/", 0) == 0; });
    };
    std::map<std::string, std::string> all = then;
    all.insert(now.begin(), now.end());
    for (const auto &[key, unused] : all)
      {
        const auto a = then.find(key), b = now.find(key);
        const std::string before = a == then.end() ? "(not set)" : a->second;
        const std::string after  = b == now.end() ? "(not set)" : b->second;
        if (before != after && !is_free(key))
          throw InputError(where + "entry '" + key + "' was '" + before + "' in the checkpointed run, now '" + after +
                           "' (only Output, Checkpoint and the end time or step budget may change on resume)");
      }
  }
} // namespace tpde
