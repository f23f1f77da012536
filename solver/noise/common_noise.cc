#include "noise/common_noise.h"

#include "common/parameter_entries.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tpde::noise
{
  namespace
  {
    std::vector<std::string> split(const std::string &text, char separator)
    {
      std::vector<std::string> pieces(1);
      for (const char c : text)
        if (c == separator)
          pieces.emplace_back();
        else
          pieces.back() += c;
      return pieces;
    }

    Matrix parse_block(const std::string &text, const std::string &what)
    {
      try
        {
          return Matrix::parse(text);
        }
      catch (const std::invalid_argument &e)
        {
          throw std::invalid_argument(what + " (" + e.what() + ")");
        }
    }
  } // namespace

  CommonNoiseFields parse_common_noise(const std::string &text, unsigned int dim, bool sphere)
  {
    CommonNoiseFields fields;
    const std::string d = std::to_string(dim);
    if (!sphere)
      {
        const std::string what = "fields separated by ';', each a vector of " + d + " numbers separated by ','";
        const Matrix      rows = parse_block(text, what);
        if (rows.rows == 0 || rows.cols != dim)
          throw std::invalid_argument(what + ", got a field of " + std::to_string(rows.cols) + " numbers");
        fields.components = dim;
        for (std::size_t k = 0; k < rows.rows; ++k)
          fields.constant.emplace_back(rows.data.begin() + k * dim, rows.data.begin() + (k + 1) * dim);
        return fields;
      }
    if (dim != 2 && dim != 3)
      throw std::invalid_argument("no common noise on this sphere (dimension 2 or 3 only)");
    const std::string what = d + " x " + d + " skew matrices (rotation generators) separated by '|', rows by ';'";
    fields.components      = dim == 2 ? 1 : 3;
    for (const std::string &piece : split(text, '|'))
      {
        const Matrix      S     = parse_block(piece, what);
        const std::string field = "field " + std::to_string(fields.size() + 1);
        if (S.rows != dim || S.cols != dim)
          throw std::invalid_argument(what + ", got a " + std::to_string(S.rows) + " x " + std::to_string(S.cols) +
                                      " matrix as " + field);
        if (max_abs(S + transpose(S)) > skew_tolerance * std::max(1., max_abs(S)))
          throw std::invalid_argument(what + ", got " + field + " = '" + S.to_string() +
                                      "', not skew (S + S^T = 0 to a relative 1e-12)");
        if (dim == 2)
          fields.constant.push_back({S(1, 0)}); // d theta / dt of S x
        else
          {
            fields.constant.push_back({0., 0., 0.});
            fields.linear.push_back(S);
          }
      }
    return fields;
  }

  CommonNoiseFields read_common_noise(const EntryReader &r, unsigned int dim, bool sphere)
  {
    try
      {
        return parse_common_noise(r.trimmed("common noise"), dim, sphere);
      }
    catch (const std::invalid_argument &e)
      {
        r.fail("common noise", std::string("expected ") + e.what());
      }
  }

  CommonNoise::CommonNoise(CommonNoiseFields fields, std::uint64_t seed, unsigned int levels)
    : fields(std::move(fields))
    , brownian(seed, static_cast<unsigned int>(this->fields.size()), levels)
    , rates(this->fields.size(), 0.)
  {}

  bool CommonNoise::set_chord(double t0, double t1)
  {
    bool changed = false;
    for (unsigned int k = 0; k < rates.size(); ++k)
      {
        const double rate = (brownian.value(k, t1) - brownian.value(k, t0)) / (t1 - t0);
        changed           = changed || rate != rates[k];
        rates[k]          = rate;
      }
    return changed;
  }

  std::uint64_t CommonNoise::interval_of(double t) const
  {
    return static_cast<std::uint64_t>(std::floor(t / resolution() + 1e-9));
  }

  bool CommonNoise::select_interval(double t)
  {
    const std::uint64_t j = interval_of(std::max(t, 0.));
    const double        h = resolution();
    return set_chord(double(j) * h, double(j + 1) * h);
  }

  double CommonNoise::limit_step(double t, double dt) const
  {
    return std::min(dt, double(interval_of(std::max(t, 0.)) + 1) * resolution() - t);
  }

  void CommonNoise::add_velocity(std::size_t n, const double *x, double *v) const
  {
    const unsigned int c = fields.components;
    for (std::size_t k = 0; k < rates.size(); ++k)
      for (std::size_t i = 0; i < n; ++i)
        for (unsigned int a = 0; a < c; ++a)
          {
            double sigma = fields.constant[k][a];
            if (!fields.linear.empty())
              for (unsigned int b = 0; b < c; ++b)
                sigma += fields.linear[k](a, b) * x[i * c + b];
            v[i * c + a] += rates[k] * sigma;
          }
  }

  std::vector<double> CommonNoise::constant_displacement(double t0, double t1) const
  {
    std::vector<double> shift(fields.components, 0.);
    for (unsigned int k = 0; k < fields.size(); ++k)
      for (unsigned int a = 0; a < fields.components; ++a)
        shift[a] += fields.constant[k][a] * (brownian.value(k, t1) - brownian.value(k, t0));
    return shift;
  }
} // namespace tpde::noise
