#include "attention/kernel_base.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tpde::attention
{
  namespace
  {
    void check_finite_entries(const Matrix &m, const char *name)
    {
      if (m.data.size() != m.rows * m.cols)
        throw std::invalid_argument(std::string(name) + " has " + std::to_string(m.data.size()) +
                                    " entries but shape " + shape(m));
      for (const double entry : m.data)
        if (!std::isfinite(entry))
          throw std::invalid_argument(std::string(name) + " must have finite entries, got " +
                                      m.to_string());
    }
  } // namespace

  std::string shape(const Matrix &m)
  {
    return std::to_string(m.rows) + " x " + std::to_string(m.cols);
  }

  void check_finite_entry(const char *entry, double value)
  {
    if (!std::isfinite(value))
      {
        std::ostringstream text;
        text << entry << " must be finite, got " << value;
        throw std::invalid_argument(text.str());
      }
  }

  void check_attention_parameters(const std::string &variant, const Parameters &parameters)
  {
    const unsigned int dim = parameters.dim;
    if (dim < 1 || dim > 3)
      throw std::invalid_argument(variant + " attention supports dim = 1, 2 or 3, got " +
                                  std::to_string(dim));
    const std::string d = std::to_string(dim);
    if (parameters.Q.rows < 1 || parameters.Q.cols != dim)
      throw std::invalid_argument("Q must be k x " + d + " (k >= 1 rows of " + d +
                                  " entries), got " + shape(parameters.Q));
    if (parameters.K.rows != parameters.Q.rows || parameters.K.cols != parameters.Q.cols)
      throw std::invalid_argument("K must have the same shape as Q (" + shape(parameters.Q) +
                                  "), got " + shape(parameters.K));
    if (parameters.V.rows != dim || parameters.V.cols != dim)
      throw std::invalid_argument("V must be " + d + " x " + d + ", got " + shape(parameters.V));
    check_finite_entry("beta", parameters.beta);
    check_finite_entries(parameters.Q, "Q");
    check_finite_entries(parameters.K, "K");
    check_finite_entries(parameters.V, "V");
    // Scores beta <Qx, Ky> must stay inside the double range for points of
    // any mesh: a finite but huge key entry (1e308) made them infinite and the
    // fast summation crashed on empty source boxes. (A huge beta is each
    // variant's own check; a huge V only makes the velocity large, which the
    // run reports as a physical failure.)
    constexpr double largest = 1e100;
    for (const Matrix *m : {&parameters.Q, &parameters.K})
      for (const double entry : m->data)
        if (std::abs(entry) > largest)
          {
            std::ostringstream text;
            text << (m == &parameters.Q ? "Q" : "K") << " must have entries of magnitude at most 1e100, got "
                 << entry;
            throw std::invalid_argument(text.str());
          }
  }

  Sources check_sources(const std::string &variant,
                        unsigned int       dim,
                        std::size_t        n_sources,
                        const double      *points,
                        const double      *weights,
                        bool               all_coordinates)
  {
    Sources sources;
    sources.n       = n_sources;
    sources.points  = points;
    sources.weights = weights;
    for (std::size_t j = 0; j < n_sources; ++j)
      {
        if (!(weights[j] >= 0.) || !std::isfinite(weights[j]))
          throw std::invalid_argument(variant +
                                      " attention: source weights must be finite and "
                                      "non-negative, got " +
                                      std::to_string(weights[j]) + " for source " +
                                      std::to_string(j));
        sources.maximum_weight = std::max(sources.maximum_weight, weights[j]);
        sources.total_weight += weights[j];
        sources.n_used += weights[j] > 0. ? 1 : 0;
      }
    if (!(sources.maximum_weight > 0.))
      throw std::invalid_argument(variant +
                                  " attention: the total source weight must be positive");
    for (std::size_t j = 0; j < n_sources; ++j)
      if (all_coordinates || weights[j] > 0.)
        for (unsigned int i = 0; i < dim; ++i)
          if (!std::isfinite(points[j * dim + i]))
            throw std::invalid_argument(variant + " attention: source coordinates must be finite");
    return sources;
  }

  CheckedKernel::CheckedKernel(std::string variant, unsigned int dim)
    : variant_name(std::move(variant))
    , point_dimension(dim)
  {}

  void CheckedKernel::evaluate(std::size_t   n_targets,
                               const double *targets,
                               std::size_t   n_sources,
                               const double *sources,
                               const double *weights,
                               double       *velocities) const
  {
    for (std::size_t k = 0; k < n_targets * point_dimension; ++k)
      if (!std::isfinite(targets[k]))
        throw std::invalid_argument(variant_name +
                                    " attention: target coordinates must be finite");
    const Sources checked =
      check_sources(variant_name, point_dimension, n_sources, sources, weights);
    evaluate_checked({n_targets, targets}, checked, velocities);
  }
} // namespace tpde::attention
