// Turning a failure seen by some MPI ranks into the same exception on every
// rank, so that no rank is left waiting in a collective call.
#pragma once

#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  /// Collective: if any rank passes an error message, every rank throws
  /// Exception with the message of the lowest such rank.
  template <typename Exception>
  void throw_if_any_rank_failed(MPI_Comm communicator, const std::optional<std::string> &local_error)
  {
    int rank = 0, n_ranks = 1;
    MPI_Comm_rank(communicator, &rank);
    MPI_Comm_size(communicator, &n_ranks);
    const int candidate = local_error ? rank : n_ranks;
    int       failing   = n_ranks;
    MPI_Allreduce(&candidate, &failing, 1, MPI_INT, MPI_MIN, communicator);
    if (failing == n_ranks)
      return;
    int length = failing == rank ? static_cast<int>(local_error->size()) : 0;
    MPI_Bcast(&length, 1, MPI_INT, failing, communicator);
    std::vector<char> text(length);
    if (failing == rank)
      text.assign(local_error->begin(), local_error->end());
    MPI_Bcast(text.data(), length, MPI_CHAR, failing, communicator);
    throw Exception(std::string(text.begin(), text.end()));
  }

  /// Runs `action` and makes any exception of type Exception it throws on
  /// some ranks collective.
  template <typename Exception, typename Action>
  void collectively(MPI_Comm communicator, const Action &action)
  {
    std::optional<std::string> error;
    try
      {
        action();
      }
    catch (const Exception &e)
      {
        error = e.what();
      }
    throw_if_any_rank_failed<Exception>(communicator, error);
  }
} // namespace tpde
