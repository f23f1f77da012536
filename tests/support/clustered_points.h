// Points drawn from a fixed-seed Gaussian mixture with unequal weights and
// widths: the clustered data of the fast summation tests and benchmark.
#pragma once

#include <algorithm>
#include <cstddef>
#include <random>
#include <vector>

namespace tpde::testing
{
  struct GaussianMixture
  {
    unsigned int        dim = 2;
    std::vector<double> weights;  // one per cluster, summing to 1
    std::vector<double> means;    // n_clusters x dim
    std::vector<double> factors;  // n_clusters x dim x dim, lower triangular: covariance L L^T

    /// n_clusters clusters with means in [-spread, spread]^dim, standard
    /// deviations between 0.15 and 0.6 (anisotropic, rotated) and weights
    /// proportional to 1, 1/2, 1/3, ...
    static GaussianMixture random(unsigned int dim, unsigned int n_clusters, double spread,
                                  std::mt19937_64 &random)
    {
      std::uniform_real_distribution<double> unit(-1., 1.);
      GaussianMixture                        mixture;
      mixture.dim = dim;
      double total = 0.;
      for (unsigned int c = 0; c < n_clusters; ++c)
        {
          mixture.weights.push_back(1. / (c + 1.));
          total += mixture.weights.back();
          for (unsigned int i = 0; i < dim; ++i)
            mixture.means.push_back(spread * unit(random));
          for (unsigned int i = 0; i < dim; ++i)
            for (unsigned int j = 0; j < dim; ++j)
              mixture.factors.push_back(
                i == j ? 0.375 + 0.225 * unit(random) : (j < i ? 0.15 * unit(random) : 0.));
        }
      for (double &w : mixture.weights)
        w /= total;
      return mixture;
    }

    /// n points, row-major.
    std::vector<double> sample(std::size_t n, std::mt19937_64 &random) const
    {
      std::discrete_distribution<unsigned int> cluster(weights.begin(), weights.end());
      std::normal_distribution<double>         normal;
      std::vector<double>                      points(n * dim);
      for (std::size_t p = 0; p < n; ++p)
        {
          const unsigned int c = cluster(random);
          double             z[3];
          for (unsigned int i = 0; i < dim; ++i)
            z[i] = normal(random);
          for (unsigned int i = 0; i < dim; ++i)
            {
              double x = means[c * dim + i];
              for (unsigned int j = 0; j <= i; ++j)
                x += factors[(c * dim + i) * dim + j] * z[j];
              points[p * dim + i] = x;
            }
        }
      return points;
    }
  };
} // namespace tpde::testing
