#include "attention/moment_model.h"

#include "attention/kernel_base.h"

#include <cmath>
#include <stdexcept>

namespace tpde::attention
{
  namespace
  {
    void require(bool condition, const std::string &what)
    {
      if (!condition)
        throw std::invalid_argument(what);
    }
  } // namespace

  void check_moment_parameters(const std::string &variant, const Parameters &p)
  {
    const std::string where = "Gaussian reference '" + variant + "': ";
    const std::size_t d     = p.dim;
    require(d >= 1 && d <= 3, where + "dim must be 1, 2 or 3, not " + std::to_string(d));
    require(std::isfinite(p.beta), where + "beta is not finite");
    require(p.Q.rows >= 1 && p.Q.cols == d,
            where + "Q must be k x " + std::to_string(d) + ", is " + shape(p.Q));
    require(p.K.rows == p.Q.rows && p.K.cols == d,
            where + "K must have the shape of Q (" + shape(p.Q) + "), is " + shape(p.K));
    require(p.V.rows == d && p.V.cols == d,
            where + "V must be " + std::to_string(d) + " x " + std::to_string(d) + ", is " +
              shape(p.V));
  }
} // namespace tpde::attention
