#include "run/plots.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef TPDE_PLOT_SCRIPT
#  define TPDE_PLOT_SCRIPT "postprocess/plot_statistics.py"
#endif

namespace tpde
{
  namespace
  {
    /// The last non-empty line of `text` (a Python traceback ends with its
    /// message), at most 300 characters.
    std::string last_line(const std::string &text)
    {
      std::string last;
      std::size_t begin = 0;
      while (begin < text.size())
        {
          const std::size_t end  = std::min(text.find('\n', begin), text.size());
          const std::string line = text.substr(begin, end - begin);
          if (line.find_first_not_of(" \t\r") != std::string::npos)
            last = line;
          begin = end + 1;
        }
      return last.size() > 300 ? last.substr(0, 297) + "..." : last;
    }

    /// Runs argv[0] with `arguments` (no shell), stdout to /dev/null; returns
    /// the exit status (or -1) and fills `errors` with what it wrote to stderr.
    int run_program(const std::vector<std::string> &arguments, std::string &errors)
    {
      int pipe_ends[2];
      if (pipe(pipe_ends) != 0)
        {
          errors = std::string("cannot create a pipe: ") + std::strerror(errno);
          return -1;
        }
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDERR_FILENO);
      posix_spawn_file_actions_addclose(&actions, pipe_ends[0]);
      posix_spawn_file_actions_addclose(&actions, pipe_ends[1]);
      std::vector<char *> argv;
      for (const std::string &a : arguments)
        argv.push_back(const_cast<char *>(a.c_str()));
      argv.push_back(nullptr);
      pid_t     child = 0;
      const int spawned = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      close(pipe_ends[1]);
      if (spawned != 0)
        {
          close(pipe_ends[0]);
          errors = "cannot start " + arguments[0] + ": " + std::strerror(spawned);
          return -1;
        }
      char    buffer[4096];
      ssize_t n;
      while ((n = read(pipe_ends[0], buffer, sizeof buffer)) != 0)
        if (n > 0 && errors.size() < 65536)
          errors.append(buffer, n);
        else if (n < 0 && errno != EINTR)
          break;
      close(pipe_ends[0]);
      int status = 0;
      while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
          return -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
  } // namespace

  std::string plot_script()
  {
    const char *chosen = std::getenv("TPDE_PLOT_STATISTICS");
    return chosen && *chosen ? chosen : TPDE_PLOT_SCRIPT;
  }

  std::string plot_statistics(const std::string &folder)
  {
    const std::string script = plot_script();
    std::error_code   ec;
    if (!std::filesystem::is_regular_file(script, ec))
      return "the plot script " + script + " does not exist (set TPDE_PLOT_STATISTICS to its path)";
    const std::string python = std::filesystem::exists("/usr/bin/python3", ec) ? "/usr/bin/python3" : "python3";
    const std::string out    = (std::filesystem::path(folder) / "statistics.png").string();
    std::string       errors;
    const int         status = run_program({python, script, folder, "--out", out}, errors);
    if (status == 0)
      return "";
    const std::string reason = last_line(errors);
    if (status < 0)
      return reason.empty() ? python + " " + script + " did not finish" : reason;
    return reason.empty() ? script + " ended with exit code " + std::to_string(status) : reason;
  }

  void plot_statistics_if_asked(const Parameters &p, RunKind kind, bool quiet)
  {
    if (!p.output.plots)
      return;
    const std::string folder = kind == RunKind::particles ? p.particles.directory : p.output.directory;
    const std::string failure = plot_statistics(folder);
    if (failure.empty())
      {
        if (!quiet)
          std::cout << "plot: " << (std::filesystem::path(folder) / "statistics.png").string() << std::endl;
        return;
      }
    std::cerr << "tpde: warning: Output/plots: statistics.png not drawn: " << failure
              << " (the run itself succeeded)" << std::endl;
  }
} // namespace tpde
