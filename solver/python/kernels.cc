// tpde._tpde: the attention kernels (attention/attention.h) and the exact Gaussian references
// (reference/gaussian_reference.h, parameters.h) on NumPy arrays. The kernel's parameters come from
// the `subsection Attention` entries, read by the same readers as a .prm file.
#include "python/bindings.h"

#include "parameters/parameters.h"

#include <pybind11/stl.h>

namespace tpde::python
{
  namespace
  {
    /// The parameters of `variant` in `dimension`, from "Subsection/entry=value" overrides.
    Parameters attention_parameters(const std::string &variant, unsigned int dimension,
                                    std::vector<std::string> overrides)
    {
      overrides.insert(overrides.begin(), "Attention/type=" + variant);
      return parse_parameters("set dimension = " + std::to_string(dimension) + "\n", "attention parameters",
                              overrides);
    }

    py::array_t<double> evaluate_attention(const std::string &variant, const InputArray &targets,
                                           const InputArray &sources, const InputArray &weights,
                                           const std::vector<std::string> &overrides)
    {
      check_matrix(targets, "targets");
      const py::ssize_t d = targets.shape(1);
      check_matrix(sources, "sources", d);
      if (weights.ndim() != 1 || weights.shape(0) != sources.shape(0))
        throw InputError("weights: expected an array of shape (" + std::to_string(sources.shape(0)) +
                         ",), one per source");
      if (d < 1 || d > 3)
        throw InputError("targets: expected 1, 2 or 3 columns (the dimension), got " + std::to_string(d));
      const Parameters p = attention_parameters(variant, static_cast<unsigned int>(d), overrides);
      std::unique_ptr<attention::Kernel> kernel;
      try
        {
          kernel = attention::create(p.attention_type, p.attention);
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(std::string("attention parameters: ") + e.what());
        }
      py::array_t<double> velocities({targets.shape(0), d});
      const double       *t = targets.data(), *s = sources.data(), *w = weights.data();
      double             *v = velocities.mutable_data();
      const std::size_t   n = std::size_t(targets.shape(0)), m = std::size_t(sources.shape(0));
      try
        {
          py::gil_scoped_release released;
          kernel->evaluate(n, t, m, s, w, v);
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(std::string("attention: ") + e.what());
        }
      return velocities;
    }

    /// Means (T, d) and covariances (T, d, d) at `times` from (mean, covariance) at t = 0.
    py::tuple gaussian_moments(reference::GaussianReference &reference, const InputArray &times)
    {
      const py::ssize_t   count = times.size(), d = reference.dimension();
      py::array_t<double> means({count, d}), covariances({count, d, d});
      double *mean = means.mutable_data(), *covariance = covariances.mutable_data();
      for (py::ssize_t k = 0; k < count; ++k)
        {
          const double t = times.data()[k];
          if (!(t >= reference.time()))
            throw InputError("times: expected non-decreasing times from 0, got " + std::to_string(t) + " after " +
                             std::to_string(reference.time()));
          try
            {
              py::gil_scoped_release released;
              reference.advance_to(t);
            }
          catch (const std::runtime_error &e)
            {
              throw PhysicalFailure(std::string("Gaussian reference: ") + e.what());
            }
          const auto &state = reference.state();
          std::copy(state.mean.begin(), state.mean.end(), mean + k * d);
          std::copy(state.covariance.data.begin(), state.covariance.data.end(), covariance + k * d * d);
        }
      return py::make_tuple(means, covariances);
    }

    py::tuple gaussian_reference(const std::string &variant, const InputArray &mean, const InputArray &covariance,
                                 const InputArray &times, double diffusion, const std::vector<std::string> &overrides)
    {
      const py::ssize_t d = mean.size();
      if (mean.ndim() != 1 || d < 1 || d > 3)
        throw InputError("mean: expected a vector of 1, 2 or 3 numbers");
      if (covariance.ndim() != 2 || covariance.shape(0) != d || covariance.shape(1) != d)
        throw InputError("covariance: expected a " + std::to_string(d) + " x " + std::to_string(d) + " matrix");
      if (diffusion < 0)
        throw InputError("diffusion: expected a number >= 0");
      const Parameters p = attention_parameters(variant, static_cast<unsigned int>(d), overrides);
      if (!reference::has_gaussian_reference(p.attention_type))
        throw InputError("gaussian_reference: '" + variant + "' has no Gaussian reference (those that have: " +
                         reference::gaussian_reference_variants() + ")");
      reference::GaussianState initial{std::vector<double>(mean.data(), mean.data() + d), Matrix(d, d)};
      std::copy(covariance.data(), covariance.data() + d * d, initial.covariance.data.begin());
      std::unique_ptr<reference::GaussianReference> reference;
      try
        {
          reference = std::make_unique<reference::GaussianReference>(p.attention_type, p.layers, initial);
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(std::string("gaussian_reference: ") + e.what());
        }
      reference->set_diffusion(diffusion);
      return gaussian_moments(*reference, times);
    }

    /// exact_gaussian_reference(parameters) at `times`; None where the run has none.
    py::object run_reference(const Parameters &parameters, const InputArray &times)
    {
      const auto reference = exact_gaussian_reference(parameters);
      if (!reference)
        return py::none();
      return gaussian_moments(*reference, times);
    }
  } // namespace

  void bind_kernels(py::module_ &m)
  {
    m.def("attention", &evaluate_attention, py::arg("variant"), py::arg("targets"), py::arg("sources"),
          py::arg("weights"), py::arg("overrides"),
          "The velocity (n, d) of the registered kernel `variant` without the GIL; overrides 'Attention/entry=value'.");
    m.def("attention_variants", &attention::variant_names, "The registered attention variants, joined by '|'.");
    m.def("gaussian_reference", &gaussian_reference, py::arg("variant"), py::arg("mean"), py::arg("covariance"),
          py::arg("times"), py::arg("diffusion"), py::arg("overrides"),
          "(means, covariances) of the exact Gaussian solution at `times` (from t = 0).");
    m.def("run_reference", &run_reference, py::arg("parameters"), py::arg("times"),
          "tpde::exact_gaussian_reference(parameters) at `times`: (means, covariances), or None.");
  }
} // namespace tpde::python
