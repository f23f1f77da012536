// Small dense row-major matrices in plain C++.
//
// The attention kernels, the Gaussian reference ODEs and (later) the particle
// solver all work with d x d or k x d matrices (d <= 3). They must not depend on
// deal.II, so they share this minimal type instead of dealii::FullMatrix.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  struct Matrix
  {
    std::size_t         rows = 0;
    std::size_t         cols = 0;
    std::vector<double> data; // row-major, rows * cols entries

    Matrix() = default;
    Matrix(std::size_t r, std::size_t c, double value = 0.)
      : rows(r)
      , cols(c)
      , data(r * c, value)
    {}

    double &operator()(std::size_t i, std::size_t j) { return data[i * cols + j]; }
    double  operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }

    static Matrix identity(std::size_t n);
    /// Parses "a, b; c, d" (rows separated by ';', entries by ',' or blanks).
    /// Throws std::invalid_argument with a readable reason on malformed text
    /// or ragged rows.
    static Matrix parse(const std::string &text);
    std::string   to_string() const;
  };

  /// The whole of `text` (blanks around it allowed) as a finite number, or nothing.
  std::optional<double> parse_number(const std::string &text);

  Matrix operator*(const Matrix &a, const Matrix &b);
  Matrix operator+(const Matrix &a, const Matrix &b);
  Matrix operator-(const Matrix &a, const Matrix &b);
  Matrix operator*(double s, const Matrix &a);
  Matrix transpose(const Matrix &a);
  std::vector<double> operator*(const Matrix &a, const std::vector<double> &x);

  /// Largest absolute entry.
  double max_abs(const Matrix &a);
  /// True if a is symmetric (relative tolerance) and has a Cholesky factor.
  bool is_symmetric_positive_definite(const Matrix &a, double tolerance = 1e-12);
  /// Inverse of a small square matrix (Gauss-Jordan with partial pivoting).
  /// Throws std::invalid_argument if singular.
  Matrix inverse(const Matrix &a);
  double determinant(const Matrix &a);
  /// Lower Cholesky factor L (a = L L^T, only the lower triangle of a is
  /// read), or nothing as soon as a pivot is not above minimum_pivot.
  std::optional<Matrix> cholesky_factor(const Matrix &a, double minimum_pivot = 0.);
  /// Eigenvalues of a symmetric matrix in ascending order (symmetric_eigen.h).
  std::vector<double> symmetric_eigenvalues(const Matrix &a);
} // namespace tpde
