// The fuzz harness of tests/fuzz/test_readers.cc: seeded mutations of valid
// input files, and a case runner that accepts only success or the reader's
// input-error type, with a per-case time limit and the case printed on a
// crash, a std::terminate or a sanitizer report.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace tpde::fuzz
{
  /// Seeded, deterministic mutations of text files (the same seed gives the
  /// same mutated text on every machine: only mt19937_64 and integer draws).
  class Mutator
  {
  public:
    explicit Mutator(std::uint64_t seed);

    /// Integer in [0, n).
    std::size_t below(std::size_t n);
    bool        chance(double p);
    template <typename T>
    const T &pick(const std::vector<T> &items)
    {
      return items[below(items.size())];
    }

    /// One to `max_steps` random mutations of `text`; `others` are valid
    /// files of the same kind (lines are spliced from them), `values`
    /// replacement values for numbers and entries. Adds what it did to
    /// log() (one line per mutation).
    std::string mutate(std::string text, const std::vector<std::string> &others,
                       const std::vector<std::string> &values, unsigned int max_steps = 3);

    /// What the mutations of this mutator did, for the failure message.
    const std::vector<std::string> &log() const { return steps; }

    // Single mutations (public for the prm-specific ones in the test).
    std::string flip_byte(const std::string &text);
    std::string insert_bytes(const std::string &text);
    std::string delete_range(const std::string &text);
    std::string truncate(const std::string &text);
    std::string duplicate_line(const std::string &text);
    std::string delete_line(const std::string &text);
    std::string swap_lines(const std::string &text);
    std::string repeat_line(const std::string &text);
    std::string replace_number(const std::string &text, const std::vector<std::string> &values);
    std::string splice_line(const std::string &text, const std::vector<std::string> &others);
    void        note(const std::string &what) { steps.push_back(what); }

  private:
    std::mt19937_64          rng;
    std::vector<std::string> steps;
  };

  /// Numbers and words that readers get wrong: huge, tiny, NaN, negative,
  /// past int and unsigned, empty, garbage.
  const std::vector<std::string> &interesting_values();

  std::vector<std::string> split_lines(const std::string &text); // keeps no '\n'
  std::string              join_lines(const std::vector<std::string> &lines);
  /// Printable form of a mutated input (control and non-ASCII bytes as \xNN).
  std::string              escaped(const std::string &text);
  std::string              read_text(const std::string &path);
  /// Writes `text` to a new file at `path` (an old one is removed first:
  /// ext4 flushes a file truncated and rewritten in place, 1-3 ms a time).
  std::string              write_fresh(const std::string &path, const std::string &text);

  /// How a case ended: success, the reader's input-error type (with its
  /// message), or anything else (a failure of the test).
  struct Outcome
  {
    enum class Kind
    {
      success,
      input_error,
      wrong_exception
    } kind = Kind::success;
    std::string message;
  };

  /// Runs `body`; `accepted_error(e)` says whether a std::exception is the
  /// documented input-error type (InputError, or std::invalid_argument for
  /// the token CSV reader). An accepted error must have a one-line message.
  Outcome classify(const std::function<void()>                    &body,
                   const std::function<bool(const std::exception &)> &accepted_error);

  /// The case being run, printed by the watchdog (past the time limit), by
  /// the signal handlers (SIGSEGV, SIGABRT from std::terminate, ...) and by
  /// the sanitizer's death callback, then the process ends: a crash or a
  /// hang fails the test with the seed and the input on stderr.
  class CaseGuard
  {
  public:
    /// Installs the handlers and starts the watchdog (once per process).
    static void install(std::chrono::seconds limit);
    CaseGuard(const std::string &kind, std::uint64_t seed, const std::string &input);
    ~CaseGuard();
    CaseGuard(const CaseGuard &) = delete;
    CaseGuard &operator=(const CaseGuard &) = delete;
  };

  /// Number of cases: `default_cases` times TPDE_FUZZ_SCALE (a positive
  /// number, default 1). TPDE_FUZZ_SEED=kind:seed runs that one case only.
  std::size_t case_count(std::size_t default_cases);
  /// Seeds to run for `kind`: first_seed, first_seed + 1, ... or the one of TPDE_FUZZ_SEED.
  std::vector<std::uint64_t> seeds_for(const std::string &kind, std::uint64_t first_seed, std::size_t cases);
} // namespace tpde::fuzz
