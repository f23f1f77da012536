#include "checkpoint/grid_state.h"

#include "common/collective.h"
#include "common/errors.h"

#include <deal.II/base/mpi.h>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace tpde
{
  namespace
  {
    /// "coarse:path" (e.g. "3:0172"): deal.II's CellId text without the
    /// level count, so an ancestor's key is a prefix of its descendants'.
    template <typename Cell>
    std::string cell_key(const Cell &cell)
    {
      const std::string id    = cell->id().to_string();
      const auto        level = id.find('_');
      const auto        path  = id.find(':');
      return id.substr(0, level) + ":" + id.substr(path + 1);
    }

    /// Every rank's bytes, concatenated in rank order on rank 0.
    std::vector<char> gather_bytes(MPI_Comm comm, const char *data, std::size_t size)
    {
      const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
      const bool         root    = dealii::Utilities::MPI::this_mpi_process(comm) == 0;
      const auto sizes = dealii::Utilities::MPI::gather(comm, static_cast<unsigned long long>(size), 0);
      std::vector<int>  counts(n_ranks), offsets(n_ranks);
      std::vector<char> all;
      if (root)
        {
          unsigned long long total = 0;
          for (unsigned int r = 0; r < n_ranks; ++r)
            {
              if (total + sizes[r] > static_cast<unsigned long long>(std::numeric_limits<int>::max()))
                throw std::runtime_error("checkpoint larger than 2 GB: not supported");
              counts[r]  = static_cast<int>(sizes[r]);
              offsets[r] = static_cast<int>(total);
              total += sizes[r];
            }
          all.resize(total);
        }
      MPI_Gatherv(data, static_cast<int>(size), MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, 0,
                  comm);
      return all;
    }

    /// Every rank's numbers, concatenated in rank order on rank 0.
    std::vector<double> gather_numbers(MPI_Comm comm, const std::vector<double> &values)
    {
      const auto          bytes = gather_bytes(comm, reinterpret_cast<const char *>(values.data()),
                                      values.size() * sizeof(double));
      std::vector<double> all(bytes.size() / sizeof(double));
      if (!bytes.empty()) // an empty vector's data() may be null (UBSan)
        std::memcpy(all.data(), bytes.data(), bytes.size());
      return all;
    }

    /// The checkpoint's cells: key -> index, and every proper ancestor's key.
    struct StoredCells
    {
      std::unordered_map<std::string, std::size_t> index;
      std::unordered_set<std::string>               ancestors;

      explicit StoredCells(const std::string &lines)
      {
        std::size_t begin = 0;
        while (begin < lines.size())
          {
            auto end = lines.find('\n', begin);
            if (end == std::string::npos)
              end = lines.size();
            const std::string key = lines.substr(begin, end - begin);
            index.emplace(key, index.size());
            for (std::size_t length = key.find(':') + 1; length < key.size(); ++length)
              ancestors.insert(key.substr(0, length));
            begin = end + 1;
          }
      }
    };
  } // namespace

  template <int dim, int spacedim>
  void store_mesh_and_density(const DGSpace<dim, spacedim> &space, const VectorType &density, Checkpoint &checkpoint)
  {
    std::string         keys;
    std::vector<double> values;
    values.reserve(space.n_owned_cells() * space.n_nodes());
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        keys += cell_key(space.owned_cell(k)) + '\n';
        const double *v = space.cell_values(density.begin(), k);
        values.insert(values.end(), v, v + space.n_nodes());
      }
    const auto all_keys   = gather_bytes(space.communicator, keys.data(), keys.size());
    auto       all_values = gather_numbers(space.communicator, values);
    if (dealii::Utilities::MPI::this_mpi_process(space.communicator) != 0)
      return;
    checkpoint.put_text("cells", std::string(all_keys.begin(), all_keys.end()));
    checkpoint.put("density", std::move(all_values));
    checkpoint.put_count("mesh dimension", dim);
    checkpoint.put_count("degree", space.degree());
  }

  template <int dim, int spacedim>
  void refine_to_checkpoint(DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint)
  {
    const std::string where = checkpoint.origin() + ": ";
    if (checkpoint.count("mesh dimension") != dim || checkpoint.count("degree") != space.degree())
      throw InputError(where + "incompatible checkpoint (a Q" + std::to_string(checkpoint.count("degree")) + " run in " +
                       std::to_string(checkpoint.count("mesh dimension")) + "D; the parameters give Q" +
                       std::to_string(space.degree()) + " in " + std::to_string(dim) + "D)");
    const StoredCells stored(checkpoint.text("cells"));
    auto             &triangulation = *space.triangulation;
    // Refine towards the stored cells, one level per pass (p4est may refine
    // more to keep its 2:1 balance; the stored mesh is balanced, so never beyond it).
    for (unsigned int pass = 0;; ++pass)
      {
        bool                       flagged = false;
        std::optional<std::string> error;
        for (const auto &cell : triangulation.active_cell_iterators())
          {
            if (cell->is_artificial())
              continue;
            const std::string key = cell_key(cell);
            if (stored.index.count(key))
              continue;
            if (stored.ancestors.count(key))
              {
                cell->set_refine_flag();
                flagged = true;
              }
            else if (cell->is_locally_owned() && !error)
              error = where + "incompatible checkpoint: its mesh does not refine the coarse mesh of the parameters "
                              "(cell " + key + " is neither stored nor refined in it; Mesh entries changed?)";
          }
        throw_if_any_rank_failed<InputError>(space.communicator, error);
        if (dealii::Utilities::MPI::max(flagged ? 1 : 0, space.communicator) == 0)
          break;
        if (pass > 64)
          throw InputError(where + "incompatible checkpoint: its mesh cannot be rebuilt");
        triangulation.execute_coarsening_and_refinement();
      }
    if (triangulation.n_global_active_cells() != stored.index.size())
      throw InputError(where + "incompatible checkpoint: " + std::to_string(stored.index.size()) +
                       " cells stored, the rebuilt mesh has " + std::to_string(triangulation.n_global_active_cells()));
  }

  template <int dim, int spacedim>
  void restore_density(const DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint, VectorType &density)
  {
    const StoredCells stored(checkpoint.text("cells"));
    const auto       &values = checkpoint.numbers("density");
    const std::size_t n      = space.n_nodes();
    if (values.size() != stored.index.size() * n)
      throw InputError(checkpoint.origin() + ": damaged checkpoint (" + std::to_string(values.size()) +
                       " density values for " + std::to_string(stored.index.size()) + " cells)");
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        const std::size_t at = stored.index.at(cell_key(space.owned_cell(k)));
        std::copy(values.begin() + at * n, values.begin() + (at + 1) * n, space.cell_values(density.begin(), k));
      }
  }

  template <int dim, int spacedim>
  void store_cell_values(const DGSpace<dim, spacedim> &space, const std::vector<double> &per_cell, const std::string &name,
                         Checkpoint &checkpoint)
  {
    auto all = gather_numbers(space.communicator, per_cell);
    if (dealii::Utilities::MPI::this_mpi_process(space.communicator) == 0)
      checkpoint.put(name, std::move(all));
  }

  template <int dim, int spacedim>
  std::vector<double> restore_cell_values(const DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint,
                                          const std::string &name)
  {
    const auto &values = checkpoint.numbers(name);
    if (values.empty())
      return {};
    const StoredCells stored(checkpoint.text("cells"));
    if (values.size() != stored.index.size())
      throw InputError(checkpoint.origin() + ": damaged checkpoint (" + std::to_string(values.size()) + " values of '" +
                       name + "' for " + std::to_string(stored.index.size()) + " cells)");
    std::vector<double> owned(space.n_owned_cells());
    for (std::size_t k = 0; k < owned.size(); ++k)
      owned[k] = values[stored.index.at(cell_key(space.owned_cell(k)))];
    return owned;
  }

  template void store_mesh_and_density<1>(const DGSpace<1> &, const VectorType &, Checkpoint &);
  template void store_mesh_and_density<2>(const DGSpace<2> &, const VectorType &, Checkpoint &);
  template void store_mesh_and_density<3>(const DGSpace<3> &, const VectorType &, Checkpoint &);
  template void refine_to_checkpoint<1>(DGSpace<1> &, const Checkpoint &);
  template void refine_to_checkpoint<2>(DGSpace<2> &, const Checkpoint &);
  template void refine_to_checkpoint<3>(DGSpace<3> &, const Checkpoint &);
  template void restore_density<1>(const DGSpace<1> &, const Checkpoint &, VectorType &);
  template void store_cell_values<1>(const DGSpace<1> &, const std::vector<double> &, const std::string &, Checkpoint &);
  template std::vector<double> restore_cell_values<1>(const DGSpace<1> &, const Checkpoint &, const std::string &);
  template void restore_density<2>(const DGSpace<2> &, const Checkpoint &, VectorType &);
  template void store_cell_values<2>(const DGSpace<2> &, const std::vector<double> &, const std::string &, Checkpoint &);
  template std::vector<double> restore_cell_values<2>(const DGSpace<2> &, const Checkpoint &, const std::string &);
  template void restore_density<3>(const DGSpace<3> &, const Checkpoint &, VectorType &);
  template void store_cell_values<3>(const DGSpace<3> &, const std::vector<double> &, const std::string &, Checkpoint &);
  template std::vector<double> restore_cell_values<3>(const DGSpace<3> &, const Checkpoint &, const std::string &);
  template void store_mesh_and_density<2, 3>(const DGSpace<2, 3> &, const VectorType &, Checkpoint &);
  template void refine_to_checkpoint<2, 3>(DGSpace<2, 3> &, const Checkpoint &);
  template void restore_density<2, 3>(const DGSpace<2, 3> &, const Checkpoint &, VectorType &);
  template void store_cell_values<2, 3>(const DGSpace<2, 3> &, const std::vector<double> &, const std::string &, Checkpoint &);
  template std::vector<double> restore_cell_values<2, 3>(const DGSpace<2, 3> &, const Checkpoint &, const std::string &);
} // namespace tpde
