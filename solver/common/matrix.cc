#include "common/matrix.h"

#include "common/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    void require(bool condition, const std::string &what)
    {
      if (!condition)
        throw std::invalid_argument(what);
    }

    std::string trim(const std::string &s)
    {
      const auto begin = s.find_first_not_of(" \t\r\n");
      if (begin == std::string::npos)
        return "";
      const auto end = s.find_last_not_of(" \t\r\n");
      return s.substr(begin, end - begin + 1);
    }
  } // namespace

  std::optional<double> parse_number(const std::string &text)
  {
    const std::string t = trim(text);
    std::size_t       used = 0;
    double            v    = 0;
    try
      {
        v = std::stod(t, &used);
      }
    catch (...)
      {
        return std::nullopt;
      }
    if (t.empty() || used != t.size() || !std::isfinite(v))
      return std::nullopt;
    return v;
  }

  Matrix Matrix::identity(std::size_t n)
  {
    Matrix m(n, n);
    for (std::size_t i = 0; i < n; ++i)
      m(i, i) = 1.;
    return m;
  }

  Matrix Matrix::parse(const std::string &text)
  {
    Matrix             m;
    std::istringstream rows_in(text);
    std::string        row_text;
    std::size_t        row = 0;
    while (std::getline(rows_in, row_text, ';'))
      {
        ++row;
        std::string cleaned = row_text;
        std::replace(cleaned.begin(), cleaned.end(), ',', ' ');
        if (trim(cleaned).empty())
          throw std::invalid_argument("row " + std::to_string(row) + " is empty");
        std::istringstream  entries(cleaned);
        std::vector<double> values;
        std::string         token;
        while (entries >> token)
          {
            const auto v = parse_number(token);
            if (!v)
              throw std::invalid_argument("'" + token + "' is not a number");
            values.push_back(*v);
          }
        if (m.rows == 0)
          m.cols = values.size();
        else if (values.size() != m.cols)
          throw std::invalid_argument("row " + std::to_string(row) + " has " +
                                      std::to_string(values.size()) + " entries, row 1 has " +
                                      std::to_string(m.cols));
        m.data.insert(m.data.end(), values.begin(), values.end());
        ++m.rows;
      }
    require(m.rows > 0, "no entries");
    return m;
  }

  std::string Matrix::to_string() const
  {
    std::ostringstream out;
    out.precision(17);
    for (std::size_t i = 0; i < rows; ++i)
      {
        if (i > 0)
          out << "; ";
        for (std::size_t j = 0; j < cols; ++j)
          out << (j > 0 ? ", " : "") << (*this)(i, j);
      }
    return out.str();
  }

  Matrix operator*(const Matrix &a, const Matrix &b)
  {
    require(a.cols == b.rows, "matrix product: shape mismatch");
    Matrix c(a.rows, b.cols);
    for (std::size_t i = 0; i < a.rows; ++i)
      for (std::size_t k = 0; k < a.cols; ++k)
        for (std::size_t j = 0; j < b.cols; ++j)
          c(i, j) += a(i, k) * b(k, j);
    return c;
  }

  Matrix operator+(const Matrix &a, const Matrix &b)
  {
    require(a.rows == b.rows && a.cols == b.cols, "matrix sum: shape mismatch");
    Matrix c = a;
    for (std::size_t i = 0; i < c.data.size(); ++i)
      c.data[i] += b.data[i];
    return c;
  }

  Matrix operator-(const Matrix &a, const Matrix &b) { return a + (-1.) * b; }

  Matrix operator*(double s, const Matrix &a)
  {
    Matrix c = a;
    for (double &v : c.data)
      v *= s;
    return c;
  }

  Matrix transpose(const Matrix &a)
  {
    Matrix t(a.cols, a.rows);
    for (std::size_t i = 0; i < a.rows; ++i)
      for (std::size_t j = 0; j < a.cols; ++j)
        t(j, i) = a(i, j);
    return t;
  }

  std::vector<double> operator*(const Matrix &a, const std::vector<double> &x)
  {
    require(a.cols == x.size(), "matrix-vector product: shape mismatch");
    std::vector<double> y(a.rows, 0.);
    for (std::size_t i = 0; i < a.rows; ++i)
      for (std::size_t j = 0; j < a.cols; ++j)
        y[i] += a(i, j) * x[j];
    return y;
  }

  double max_abs(const Matrix &a)
  {
    double m = 0;
    for (double v : a.data)
      m = std::max(m, std::abs(v));
    return m;
  }

  std::optional<Matrix> cholesky_factor(const Matrix &a, double minimum_pivot)
  {
    const std::size_t n = a.rows;
    Matrix            l(n, n);
    for (std::size_t j = 0; j < n; ++j)
      {
        double pivot = a(j, j);
        for (std::size_t k = 0; k < j; ++k)
          pivot -= l(j, k) * l(j, k);
        if (!(pivot > minimum_pivot))
          return std::nullopt;
        l(j, j) = std::sqrt(pivot);
        for (std::size_t i = j + 1; i < n; ++i)
          {
            double sum = a(i, j);
            for (std::size_t k = 0; k < j; ++k)
              sum -= l(i, k) * l(j, k);
            l(i, j) = sum / l(j, j);
          }
      }
    return l;
  }

  bool is_symmetric_positive_definite(const Matrix &a, double tolerance)
  {
    if (a.rows != a.cols || a.rows == 0)
      return false;
    const std::size_t n     = a.rows;
    const double      scale = max_abs(a);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (std::abs(a(i, j) - a(j, i)) > tolerance * scale)
          return false;
    return cholesky_factor(a, tolerance * scale).has_value();
  }

  Matrix inverse(const Matrix &a)
  {
    require(a.rows == a.cols, "inverse: matrix is not square");
    const std::size_t n = a.rows;
    Matrix            m = a, inv = Matrix::identity(n);
    for (std::size_t c = 0; c < n; ++c)
      {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < n; ++r)
          if (std::abs(m(r, c)) > std::abs(m(pivot, c)))
            pivot = r;
        require(m(pivot, c) != 0., "inverse: matrix is singular");
        for (std::size_t j = 0; j < n; ++j)
          {
            std::swap(m(c, j), m(pivot, j));
            std::swap(inv(c, j), inv(pivot, j));
          }
        const double p = m(c, c);
        for (std::size_t j = 0; j < n; ++j)
          {
            m(c, j) /= p;
            inv(c, j) /= p;
          }
        for (std::size_t r = 0; r < n; ++r)
          if (r != c)
            {
              const double f = m(r, c);
              for (std::size_t j = 0; j < n; ++j)
                {
                  m(r, j) -= f * m(c, j);
                  inv(r, j) -= f * inv(c, j);
                }
            }
      }
    return inv;
  }

  double determinant(const Matrix &a)
  {
    require(a.rows == a.cols, "determinant: matrix is not square");
    const std::size_t n = a.rows;
    Matrix            m = a;
    double            det = 1.;
    for (std::size_t c = 0; c < n; ++c)
      {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < n; ++r)
          if (std::abs(m(r, c)) > std::abs(m(pivot, c)))
            pivot = r;
        if (m(pivot, c) == 0.)
          return 0.;
        if (pivot != c)
          {
            det = -det;
            for (std::size_t j = 0; j < n; ++j)
              std::swap(m(c, j), m(pivot, j));
          }
        det *= m(c, c);
        for (std::size_t r = c + 1; r < n; ++r)
          {
            const double f = m(r, c) / m(c, c);
            for (std::size_t j = c; j < n; ++j)
              m(r, j) -= f * m(c, j);
          }
      }
    return det;
  }

  std::vector<double> symmetric_eigenvalues(const Matrix &a)
  {
    std::vector<double> values = symmetric_eigen(a).values;
    std::sort(values.begin(), values.end());
    return values;
  }
} // namespace tpde
