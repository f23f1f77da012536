#include "output/statistics_schema.h"

#include <limits>
#include <stdexcept>

namespace tpde
{
  void append_moment_columns(std::vector<std::string> &header, const std::string &prefix, unsigned int d)
  {
    for (unsigned int i = 0; i < d; ++i)
      header.push_back(prefix + "mean_" + std::to_string(i));
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j)
        header.push_back(prefix + "cov_" + std::to_string(i) + std::to_string(j));
  }

  std::vector<std::string> statistics_header(unsigned int dim, bool with_reference, const RunColumns &own)
  {
    std::vector<std::string> h = {"step", "time", "dt", "mass"};
    h.insert(h.end(), own.after_mass.begin(), own.after_mass.end());
    append_moment_columns(h, "", dim);
    h.insert(h.end(), own.after_moments.begin(), own.after_moments.end());
    if (with_reference)
      {
        append_moment_columns(h, "ref_", dim);
        h.insert(h.end(), own.reference_errors.begin(), own.reference_errors.end());
      }
    h.insert(h.end(), own.last.begin(), own.last.end());
    return h;
  }

  ReferenceTracker::ReferenceTracker(std::unique_ptr<reference::GaussianReference> reference)
    : reference(std::move(reference))
  {}

  std::vector<double> ReferenceTracker::snapshot() const
  {
    if (!reference)
      return {};
    std::vector<double> all = {failed ? 1. : 0.};
    const auto          ode = reference->snapshot();
    all.insert(all.end(), ode.begin(), ode.end());
    return all;
  }

  void ReferenceTracker::restore(const std::vector<double> &snapshot)
  {
    if (!reference)
      return;
    if (snapshot.empty())
      throw std::invalid_argument("no state of the Gaussian reference");
    failed = snapshot[0] != 0;
    reference->restore(std::vector<double>(snapshot.begin() + 1, snapshot.end()));
  }

  std::vector<double> join_snapshots(const ReferenceTracker &a, const ReferenceTracker &b)
  {
    const auto          first = a.snapshot(), second = b.snapshot();
    std::vector<double> all   = {double(first.size())};
    all.insert(all.end(), first.begin(), first.end());
    all.insert(all.end(), second.begin(), second.end());
    return all;
  }

  void split_snapshots(const std::vector<double> &snapshot, ReferenceTracker &a, ReferenceTracker &b)
  {
    const std::size_t first = snapshot.empty() ? 0 : static_cast<std::size_t>(snapshot[0]);
    if (snapshot.empty() || 1 + first > snapshot.size())
      throw std::invalid_argument("no state of the Gaussian references");
    a.restore(std::vector<double>(snapshot.begin() + 1, snapshot.begin() + 1 + first));
    b.restore(std::vector<double>(snapshot.begin() + 1 + first, snapshot.end()));
  }

  const reference::GaussianState *ReferenceTracker::state(double time)
  {
    if (!reference || failed)
      return nullptr;
    try
      {
        return &reference->advance_to(time);
      }
    catch (const std::runtime_error &)
      {
        failed = true; // past a finite-time blow-up: NaN columns from now on
        return nullptr;
      }
  }

  void append_reference_moments(std::vector<double> &row, const reference::GaussianState *state,
                                unsigned int dim, unsigned int n_error_columns)
  {
    if (state == nullptr)
      {
        row.insert(row.end(), dim + dim * dim + n_error_columns, std::numeric_limits<double>::quiet_NaN());
        return;
      }
    for (unsigned int i = 0; i < dim; ++i)
      row.push_back(state->mean[i]);
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        row.push_back(state->covariance(i, j));
  }

  double column(const std::vector<std::string> &header, const std::vector<double> &row,
                const std::string &name)
  {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name)
        return row[i];
    throw std::out_of_range("no statistics column '" + name + "'");
  }
} // namespace tpde
