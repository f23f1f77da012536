#include "common/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    /// Applies the rotation in the (p, q) plane that zeroes m(p, q) to both
    /// sides of m and to the columns of vectors.
    void rotate(Matrix &m, Matrix &vectors, std::size_t p, std::size_t q)
    {
      const std::size_t n     = m.rows;
      const double      theta = (m(q, q) - m(p, p)) / (2. * m(p, q));
      const double      t =
        (theta >= 0 ? 1. : -1.) / (std::abs(theta) + std::sqrt(theta * theta + 1.));
      const double c = 1. / std::sqrt(t * t + 1.), s = t * c;
      for (std::size_t k = 0; k < n; ++k)
        {
          const double mkp = m(k, p), mkq = m(k, q);
          m(k, p)          = c * mkp - s * mkq;
          m(k, q)          = s * mkp + c * mkq;
          const double vkp = vectors(k, p), vkq = vectors(k, q);
          vectors(k, p)    = c * vkp - s * vkq;
          vectors(k, q)    = s * vkp + c * vkq;
        }
      for (std::size_t k = 0; k < n; ++k)
        {
          const double mpk = m(p, k), mqk = m(q, k);
          m(p, k)          = c * mpk - s * mqk;
          m(q, k)          = s * mpk + c * mqk;
        }
    }
  } // namespace

  SymmetricEigen symmetric_eigen(const Matrix &a)
  {
    if (a.rows != a.cols)
      throw std::invalid_argument("eigenvalues: matrix is not square");
    const std::size_t n = a.rows;
    Matrix            m = a;
    SymmetricEigen    result{std::vector<double>(n), Matrix::identity(n)};
    // Quadratic convergence: a handful of sweeps; the cap only guards NaN input.
    for (unsigned int sweep = 0; sweep < 100; ++sweep)
      {
        double off = 0, diagonal = 0;
        for (std::size_t i = 0; i < n; ++i)
          {
            diagonal += m(i, i) * m(i, i);
            for (std::size_t j = i + 1; j < n; ++j)
              off += m(i, j) * m(i, j);
          }
        if (!(off > 1e-32 * diagonal))
          break;
        for (std::size_t p = 0; p < n; ++p)
          for (std::size_t q = p + 1; q < n; ++q)
            if (m(p, q) != 0.)
              rotate(m, result.vectors, p, q);
      }
    for (std::size_t i = 0; i < n; ++i)
      result.values[i] = m(i, i);
    return result;
  }

  Matrix symmetric_square_root(const Matrix &a)
  {
    if (a.rows != a.cols)
      throw std::invalid_argument("symmetric_square_root: the matrix is " +
                                  std::to_string(a.rows) + " x " + std::to_string(a.cols));
    const SymmetricEigen eigen = symmetric_eigen(a);
    const Matrix        &P     = eigen.vectors;
    const std::size_t    n     = a.rows;
    Matrix               root(n, n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        {
          double sum = 0;
          for (std::size_t k = 0; k < n; ++k)
            sum += P(i, k) * std::sqrt(std::max(eigen.values[k], 0.)) * P(j, k);
          root(i, j) = sum;
        }
    return 0.5 * (root + transpose(root));
  }
} // namespace tpde
