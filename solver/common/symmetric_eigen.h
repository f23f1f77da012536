// The one symmetric eigen-solver of the project (cyclic Jacobi rotations) and
// what is built on it. Small matrices only (d <= 3 in practice).
#pragma once

#include "common/matrix.h"

#include <vector>

namespace tpde
{
  /// a = vectors * diag(values) * vectors^T. values[k] belongs to column k of
  /// `vectors`; they are in the order the rotations leave them (not sorted),
  /// which callers that pick axes rely on to stay reproducible.
  struct SymmetricEigen
  {
    std::vector<double> values;
    Matrix              vectors; // orthogonal, eigenvectors as columns
  };

  /// Cyclic Jacobi until the off-diagonal part is below 1e-16 of the
  /// diagonal (Frobenius norms): the eigenvalues are then exact to rounding.
  /// Throws std::invalid_argument if `a` is not square.
  SymmetricEigen symmetric_eigen(const Matrix &a);

  /// Square root of a symmetric positive semi-definite matrix; negative
  /// rounding-level eigenvalues count as 0. The result is exactly symmetric.
  Matrix symmetric_square_root(const Matrix &a);
} // namespace tpde
