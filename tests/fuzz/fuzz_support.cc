#include "fuzz/fuzz_support.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <typeinfo>
#include <unistd.h>

#ifdef TPDE_SANITIZE
#  include <sanitizer/common_interface_defs.h>
#endif

namespace tpde::fuzz
{
  namespace
  {
    const std::size_t max_size = 1 << 18; // mutations that would grow a file past this are skipped

    bool is_word_char(char c)
    {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    }

    /// Start and length of every number in `text` (sign, digits, fraction, exponent).
    std::vector<std::pair<std::size_t, std::size_t>> numbers_in(const std::string &text)
    {
      std::vector<std::pair<std::size_t, std::size_t>> found;
      std::size_t                                      i = 0;
      const auto digit = [&](std::size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
      while (i < text.size())
        {
          std::size_t start = i, k = i;
          if ((text[k] == '-' || text[k] == '+') && (digit(k + 1) || (k + 1 < text.size() && text[k + 1] == '.')))
            ++k;
          const bool boundary = start == 0 || !is_word_char(text[start - 1]);
          if (boundary && (digit(k) || (text[k] == '.' && digit(k + 1))))
            {
              while (digit(k) || (k < text.size() && text[k] == '.'))
                ++k;
              if (k < text.size() && (text[k] == 'e' || text[k] == 'E'))
                {
                  std::size_t e = k + 1;
                  if (e < text.size() && (text[e] == '-' || text[e] == '+'))
                    ++e;
                  if (digit(e))
                    {
                      k = e;
                      while (digit(k))
                        ++k;
                    }
                }
              found.emplace_back(start, k - start);
              i = k;
            }
          else
            ++i;
        }
      return found;
    }
  } // namespace

  Mutator::Mutator(std::uint64_t seed)
    : rng(seed)
  {}

  std::size_t Mutator::below(std::size_t n)
  {
    return n == 0 ? 0 : static_cast<std::size_t>(rng() % n);
  }

  bool Mutator::chance(double p)
  {
    return static_cast<double>(rng() % 1000000) < p * 1e6;
  }

  std::string Mutator::flip_byte(const std::string &text)
  {
    if (text.empty())
      return text;
    std::string out = text;
    const auto  at  = below(out.size());
    if (chance(0.5))
      out[at] = static_cast<char>(out[at] ^ (1 << below(8)));
    else
      out[at] = static_cast<char>(below(256));
    note("flip byte " + std::to_string(at));
    return out;
  }

  std::string Mutator::insert_bytes(const std::string &text)
  {
    static const std::string special = std::string("\n\\#,;=* -e9.\t\r\"") + '\0';
    std::string              bytes;
    for (std::size_t n = 1 + below(4); n > 0; --n)
      bytes += chance(0.7) ? special[below(special.size())] : static_cast<char>(below(256));
    const auto at = below(text.size() + 1);
    note("insert " + escaped(bytes) + " at " + std::to_string(at));
    return text.substr(0, at) + bytes + text.substr(at);
  }

  std::string Mutator::delete_range(const std::string &text)
  {
    if (text.empty())
      return text;
    const auto at     = below(text.size());
    const auto length = 1 + below(std::min<std::size_t>(64, text.size() - at));
    note("delete " + std::to_string(length) + " bytes at " + std::to_string(at));
    return text.substr(0, at) + text.substr(at + length);
  }

  std::string Mutator::truncate(const std::string &text)
  {
    const auto at = below(text.size() + 1);
    note("truncate at " + std::to_string(at));
    return text.substr(0, at);
  }

  std::string Mutator::duplicate_line(const std::string &text)
  {
    auto lines = split_lines(text);
    if (lines.empty())
      return text;
    const auto from = below(lines.size()), to = below(lines.size() + 1);
    note("copy line " + std::to_string(from + 1) + " before line " + std::to_string(to + 1));
    lines.insert(lines.begin() + static_cast<long>(to), lines[from]);
    return join_lines(lines);
  }

  std::string Mutator::delete_line(const std::string &text)
  {
    auto lines = split_lines(text);
    if (lines.empty())
      return text;
    const auto at = below(lines.size());
    note("delete line " + std::to_string(at + 1));
    lines.erase(lines.begin() + static_cast<long>(at));
    return join_lines(lines);
  }

  std::string Mutator::swap_lines(const std::string &text)
  {
    auto lines = split_lines(text);
    if (lines.size() < 2)
      return text;
    const auto a = below(lines.size()), b = below(lines.size());
    note("swap lines " + std::to_string(a + 1) + " and " + std::to_string(b + 1));
    std::swap(lines[a], lines[b]);
    return join_lines(lines);
  }

  std::string Mutator::repeat_line(const std::string &text)
  {
    auto lines = split_lines(text);
    if (lines.empty())
      return text;
    const auto at    = below(lines.size());
    const auto times = 2 + below(chance(0.2) ? 2000 : 20);
    if (lines[at].size() * times > max_size)
      return text;
    note("repeat line " + std::to_string(at + 1) + " " + std::to_string(times) + " times");
    lines.insert(lines.begin() + static_cast<long>(at), times - 1, lines[at]);
    return join_lines(lines);
  }

  std::string Mutator::replace_number(const std::string &text, const std::vector<std::string> &values)
  {
    const auto found = numbers_in(text);
    if (found.empty())
      return flip_byte(text);
    const auto [at, length] = found[below(found.size())];
    const std::string old = text.substr(at, length);
    std::string       value;
    switch (below(5))
      {
        case 0:
          value = old + old; // more digits
          break;
        case 1:
          value = old[0] == '-' ? old.substr(1) : "-" + old;
          break;
        case 2:
          value = old + "e" + std::to_string(static_cast<int>(below(700)) - 350);
          break;
        default:
          value = pick(values);
      }
    note("number '" + old + "' at " + std::to_string(at) + " -> '" + escaped(value) + "'");
    return text.substr(0, at) + value + text.substr(at + length);
  }

  std::string Mutator::splice_line(const std::string &text, const std::vector<std::string> &others)
  {
    if (others.empty())
      return text;
    const auto source = split_lines(pick(others));
    auto       lines  = split_lines(text);
    if (source.empty())
      return text;
    const auto from = below(source.size()), count = 1 + below(std::min<std::size_t>(5, source.size() - from));
    const auto to = below(lines.size() + 1);
    note("splice " + std::to_string(count) + " lines from another file (its line " + std::to_string(from + 1) +
         ") before line " + std::to_string(to + 1));
    lines.insert(lines.begin() + static_cast<long>(to), source.begin() + static_cast<long>(from),
                 source.begin() + static_cast<long>(from + count));
    return join_lines(lines);
  }

  std::string Mutator::mutate(std::string text, const std::vector<std::string> &others,
                              const std::vector<std::string> &values, unsigned int max_steps)
  {
    for (std::size_t n = 1 + below(max_steps); n > 0; --n)
      {
        std::string next;
        switch (below(14))
          {
            case 0: next = flip_byte(text); break;
            case 1: next = insert_bytes(text); break;
            case 2: next = delete_range(text); break;
            case 3: next = truncate(text); break;
            case 4: next = duplicate_line(text); break;
            case 5: next = delete_line(text); break;
            case 6: next = swap_lines(text); break;
            case 7: next = repeat_line(text); break;
            case 8:
            case 9: next = splice_line(text, others); break;
            default: next = replace_number(text, values);
          }
        if (next.size() <= max_size)
          text = std::move(next);
      }
    return text;
  }

  const std::vector<std::string> &interesting_values()
  {
    static const std::vector<std::string> values = {
      "0", "-0", "1", "-1", "2", "3", "7", "0.5", "-0.5", "1e-300", "4.9e-324", "2.2e-308", "1e308", "-1e308",
      "1.8e308", "1e999", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "2147483647", "2147483648",
      "-2147483649", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
      "18446744073709551616", "1e19", "3e9", "2e9", "1e6", "99999999999999999999", "20", "21", "100", "-100",
      "", " ", "abc", "1e", "--1", "0x1p3", "0x10", "1,2", "1;2", "1, 2, 3", "1;2;3", ",", ";", "1e-20",
      "0.0000001", "1.5", "1 2", "=", "#", "\\", "1.", ".1", "+1", "00001", "1_0"};
    return values;
  }

  std::vector<std::string> split_lines(const std::string &text)
  {
    std::vector<std::string> lines;
    std::size_t              start = 0;
    while (start < text.size())
      {
        const auto end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
          break;
        start = end + 1;
      }
    return lines;
  }

  std::string join_lines(const std::vector<std::string> &lines)
  {
    std::string out;
    for (const auto &line : lines)
      out += line + "\n";
    return out;
  }

  std::string escaped(const std::string &text)
  {
    std::string out;
    for (unsigned char c : text)
      if (c == '\n' || (c >= 32 && c < 127))
        out += static_cast<char>(c);
      else
        {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        }
    return out;
  }

  std::string read_text(const std::string &path)
  {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string write_fresh(const std::string &path, const std::string &text)
  {
    std::remove(path.c_str());
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out)
      throw std::runtime_error("cannot write " + path);
    return path;
  }

  Outcome classify(const std::function<void()>                       &body,
                   const std::function<bool(const std::exception &)> &accepted_error)
  {
    using Kind = Outcome::Kind;
    try
      {
        body();
        return {Kind::success, {}};
      }
    catch (const std::exception &e)
      {
        const std::string message = e.what();
        if (accepted_error(e))
          {
            if (message.empty() || message.find('\n') != std::string::npos)
              return {Kind::wrong_exception, "an input error whose message is not one line: " + escaped(message)};
            return {Kind::input_error, message};
          }
        int                                    status = 0;
        std::unique_ptr<char, void (*)(void *)> name(abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status),
                                                    std::free);
        return {Kind::wrong_exception, std::string(status == 0 ? name.get() : typeid(e).name()) + ": " + message};
      }
    catch (...)
      {
        return {Kind::wrong_exception, "an exception not derived from std::exception"};
      }
  }

  // ---------------------------------------------------------------- case guard
  namespace
  {
    std::mutex                  guard_mutex;
    std::string                 current_case; // header and escaped input of the running case
    std::atomic<const char *>   case_text{nullptr};
    std::atomic<std::size_t>    case_length{0};
    std::atomic<bool>           case_active{false};
    std::atomic<long long>      case_start{0}; // steady_clock ticks
    std::chrono::seconds        case_limit{10};

    long long now_ticks()
    {
      return std::chrono::steady_clock::now().time_since_epoch().count();
    }

    /// Async-signal-safe: write(2) of the pre-formatted case.
    void print_case(const char *why)
    {
      const char *text   = case_text.load();
      const auto  length = case_length.load();
      const auto  put    = [](const char *s, std::size_t n) {
        while (n > 0)
          {
            const auto w = ::write(2, s, n);
            if (w <= 0)
              return;
            s += w;
            n -= static_cast<std::size_t>(w);
          }
      };
      const auto put_string = [&](const char *s) {
        std::size_t n = 0;
        while (s[n] != '\0')
          ++n;
        put(s, n);
      };
      put_string("\n*** fuzz case failed: ");
      put_string(why);
      put_string("\n");
      if (text != nullptr)
        put(text, length);
      else
        put_string("(between cases)\n");
      put_string("*** end of fuzz case\n");
    }

    void on_signal(int signal)
    {
      print_case(signal == SIGABRT ? "abort (std::terminate, a failed assertion or an escaped exception)" :
                                     "fatal signal (crash)");
      std::signal(signal, SIG_DFL);
      std::raise(signal);
    }

#ifdef TPDE_SANITIZE
    void on_sanitizer_death()
    {
      print_case("sanitizer report (above)");
    }
#endif

    void watchdog()
    {
      for (;;)
        {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          if (!case_active.load())
            continue;
          const auto elapsed = std::chrono::steady_clock::duration(now_ticks() - case_start.load());
          if (elapsed > case_limit)
            {
              print_case("time limit exceeded (a hang)");
              std::_Exit(124);
            }
        }
    }
  } // namespace

  void CaseGuard::install(std::chrono::seconds limit)
  {
    static std::once_flag once;
    std::call_once(once, [limit]() {
      case_limit = limit;
      std::signal(SIGABRT, on_signal);
#ifdef TPDE_SANITIZE
      // The sanitizers handle SIGSEGV & co. themselves and call this at exit.
      __sanitizer_set_death_callback(on_sanitizer_death);
#else
      for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL})
        std::signal(s, on_signal);
#endif
      std::thread(watchdog).detach();
    });
  }

  CaseGuard::CaseGuard(const std::string &kind, std::uint64_t seed, const std::string &input)
  {
    std::lock_guard<std::mutex> lock(guard_mutex);
    case_text.store(nullptr);
    current_case = "reproduce with TPDE_FUZZ_SEED=" + kind + ":" + std::to_string(seed) + "; the input:\n" +
                   escaped(input) + (input.empty() || input.back() != '\n' ? "\n" : "");
    case_length.store(current_case.size());
    case_text.store(current_case.data());
    case_start.store(now_ticks());
    case_active.store(true);
  }

  CaseGuard::~CaseGuard()
  {
    case_active.store(false);
    case_text.store(nullptr);
  }

  std::size_t case_count(std::size_t default_cases)
  {
    const char *scale = std::getenv("TPDE_FUZZ_SCALE");
    const double s = scale != nullptr ? std::atof(scale) : 1.;
    return s > 0 ? static_cast<std::size_t>(default_cases * s + 0.5) : default_cases;
  }

  std::vector<std::uint64_t> seeds_for(const std::string &kind, std::uint64_t first_seed, std::size_t cases)
  {
    if (const char *only = std::getenv("TPDE_FUZZ_SEED"))
      {
        const std::string text(only);
        const auto        colon = text.find(':');
        if (colon != std::string::npos && text.substr(0, colon) == kind)
          return {std::strtoull(text.c_str() + colon + 1, nullptr, 10)};
        return {};
      }
    std::vector<std::uint64_t> seeds(cases);
    for (std::size_t i = 0; i < cases; ++i)
      seeds[i] = first_seed + i;
    return seeds;
  }
} // namespace tpde::fuzz
