// Masked (causal) attention on the (s, x) mesh (physics.md §1.7, §2.7, T11):
//  * T11: the slices s < 1/2 follow T1 (exact Gaussian) to 1e-5 at t = 1, and
//    the data at s >= 1/2 does not change the solution below 1/2 at all;
//  * slice masses are conserved;
//  * s-independent data: every slice is the unmasked solution;
//  * the discrete field equals a direct evaluation of the cumulative integral
//    int_0^s int k(x, y) rho_h(s', y) dy ds' for s-dependent data, also on a
//    locally refined mesh, while masking the nodes (s_j <= s) does not;
//  * d = 2 (a 3D mesh) runs and conserves mass;
//  * positional decay lambda > 0 (physics.md §4.3): the same causality, and the
//    field is the exact cumulative integral with the weights e^{-lambda (s - s')}.
#include "support/solver_runs.h"

#include "initial/initial_condition.h"

#include <deal.II/base/quadrature_lib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string t11 = "parameters/masked-1d-causality.prm";

  RunOptions quiet_without_output()
  {
    RunOptions options;
    options.quiet        = true;
    options.write_output = false;
    return options;
  }

  /// Lower corner and extent of a cell's bounding box.
  template <int dim>
  void box_of(const typename dealii::DoFHandler<dim>::active_cell_iterator &cell, double *lo, double *h)
  {
    for (int c = 0; c < dim; ++c)
      {
        double a = cell->vertex(0)[c], b = a;
        for (unsigned int v = 1; v < cell->n_vertices(); ++v)
          {
            a = std::min(a, cell->vertex(v)[c]);
            b = std::max(b, cell->vertex(v)[c]);
          }
        lo[c] = a;
        h[c]  = b - a;
      }
  }

  /// max over all targets (nodes and face points) of |X_h - X| / max |X|,
  /// X the softmax field (Q = K = I scaled by beta, V) of the prefix measure
  /// int_0^s e^{-lambda (s - s')} rho_h(s', y) ds' dy (lambda: the positional
  /// decay), integrated cell by cell with Gauss rules in s' on
  /// [lower, min(upper, s)] (8 more points than the degree needs, for the
  /// exponential) and the cell's Gauss nodes in y (the field's own quadrature
  /// in y), rho_h evaluated by deal.II's basis.
  /// `node_mask_error`: the same for the nodes masked by s_j <= s.
  template <int dim>
  double cumulative_field_error(Simulation<dim> &simulation, const Parameters &p, double &node_mask_error)
  {
    constexpr int      d     = dim - 1;
    const auto        &space = simulation.space();
    const unsigned int n     = space.n_nodes();
    const unsigned int m     = space.degree() + 1;
    const double            lambda = p.masked_attention.positional_decay;
    const dealii::QGauss<1> gauss(lambda > 0 ? m + 8 : m);
    const dealii::QGauss<d> x_nodes(m);
    const double            beta = p.attention.beta;
    const Matrix            A    = beta * (transpose(p.attention.K) * p.attention.Q);
    const Matrix           &V    = p.attention.V;
    const double           *u    = simulation.solution().begin();

    const std::size_t   n_targets = (space.all_node_points().size() + space.all_face_points().size()) / dim;
    std::vector<double> targets(space.all_node_points());
    targets.insert(targets.end(), space.all_face_points().begin(), space.all_face_points().end());
    const double *X_h = simulation.field().node_velocity();

    // A source list (y, weight) per distinct target s.
    const auto prefix = [&](double s, bool node_mask) {
      std::vector<double> y, w;
      for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
        {
          double lo[dim], h[dim];
          box_of<dim>(space.owned_cell(k), lo, h);
          const double *uk = space.cell_values(u, k);
          if (node_mask)
            {
              for (unsigned int q = 0; q < n; ++q)
                if (space.node_point(k, q)[0] <= s)
                  {
                    y.insert(y.end(), space.node_point(k, q) + 1, space.node_point(k, q) + dim);
                    w.push_back(uk[q] * space.node_weight(k, q) * std::exp(-lambda * (s - space.node_point(k, q)[0])));
                  }
              continue;
            }
          if (!(lo[0] < s))
            continue;
          const double top = std::min(lo[0] + h[0], s);
          for (unsigned int b = 0; b < x_nodes.size(); ++b)
            {
              double weight = 0;
              for (unsigned int g = 0; g < gauss.size(); ++g)
                {
                  dealii::Point<dim> reference;
                  reference[0] = (top - lo[0]) * gauss.point(g)[0] / h[0];
                  for (int c = 0; c < d; ++c)
                    reference[c + 1] = x_nodes.point(b)[c];
                  double rho = 0;
                  for (unsigned int i = 0; i < n; ++i)
                    rho += uk[i] * space.fe.shape_value(i, reference);
                  const double s_prime = lo[0] + (top - lo[0]) * gauss.point(g)[0];
                  weight += rho * gauss.weight(g) * (top - lo[0]) * std::exp(-lambda * (s - s_prime));
                }
              double volume = 1;
              for (int c = 1; c < dim; ++c)
                volume *= h[c];
              for (int c = 0; c < d; ++c)
                y.push_back(lo[c + 1] + x_nodes.point(b)[c] * h[c + 1]);
              w.push_back(weight * x_nodes.weight(b) * volume);
            }
        }
      return std::make_pair(y, w);
    };

    double worst = 0, worst_mask = 0, largest = 0;
    std::map<double, std::vector<std::size_t>> groups;
    for (std::size_t t = 0; t < n_targets; ++t)
      groups[targets[t * dim]].push_back(t);
    for (const auto &[s, group] : groups)
      for (const bool node_mask : {false, true})
        {
          const auto [y, w] = prefix(s, node_mask);
          for (const std::size_t t : group)
            {
              const double *x = &targets[t * dim + 1];
              long double   numerator[d] = {}, denominator = 0;
              for (std::size_t j = 0; j < w.size(); ++j)
                {
                  long double score = 0;
                  for (int r = 0; r < d; ++r)
                    for (int c = 0; c < d; ++c)
                      score += A(r, c) * x[c] * y[j * d + r];
                  const long double e = std::exp(score) * w[j];
                  denominator += e;
                  for (int r = 0; r < d; ++r)
                    numerator[r] += e * y[j * d + r];
                }
              double error2 = 0, size2 = 0;
              for (int r = 0; r < d; ++r)
                {
                  double X = 0;
                  if (denominator > 0)
                    for (int c = 0; c < d; ++c)
                      X += V(r, c) * static_cast<double>(numerator[c] / denominator);
                  error2 += (X_h[t * dim + 1 + r] - X) * (X_h[t * dim + 1 + r] - X);
                  size2 += X * X;
                }
              EXPECT_EQ(X_h[t * dim], 0.) << "s is a frozen label";
              (node_mask ? worst_mask : worst) = std::max(node_mask ? worst_mask : worst, std::sqrt(error2));
              largest = std::max(largest, std::sqrt(size2));
            }
        }
    node_mask_error = worst_mask / largest;
    return worst / largest;
  }

  /// Weights of two Gaussians that vary with s (linear in s, so the slices
  /// differ inside every cell), three s-cells; `extra`: further overrides.
  Parameters s_dependent_parameters(const std::vector<std::string> &extra)
  {
    std::vector<std::string> overrides = {
      "Mesh/lower corner=-6", "Mesh/upper corner=6", "Mesh/subdivisions=12", "Masked attention/s subdivisions=3",
      "Masked attention/upper data from=1", "Initial condition/type=expression",
      "Initial condition/expression=(1-0.8*s)*exp(-(x+1)^2/0.8)/1.5853309 + 0.8*s*exp(-(x-1.5)^2/0.6)/1.3729551",
      "Attention/V=-1.3", "Attention/beta=0.7", "Time stepping/negligible density=0"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return parameters_from(t11, overrides);
  }

  double value(const std::vector<std::string> &header, const std::vector<double> &row, const std::string &name)
  {
    return column(header, row, name);
  }
} // namespace

TEST(MaskedAttention, T11SlicesBelowOneHalfFollowT1AndSliceMassesAreConserved)
{
  Simulation<2> simulation(parameters_from(t11, {}), MPI_COMM_WORLD, quiet_without_output());
  simulation.initialize();
  const auto       header = simulation.statistics_header();
  const auto       first  = simulation.statistics_row(0, 0., 0.);
  const RunSummary s      = simulation.run();
  const auto      &last   = s.last_row;
  const double     exact_mean = std::exp(-1.) / std::sqrt(2.), exact_variance = 0.25;
  for (unsigned int k = 0; k < 6; ++k)
    {
      const std::string slice = "slice" + std::to_string(k) + "_";
      const double      mass_change =
        std::abs(value(header, last, slice + "mass") - value(header, first, slice + "mass"));
      std::printf("slice s = %.4f: mass %.15f (change %.1e), mean %.10f, variance %.10f\n",
                  value(header, last, slice + "s"), value(header, last, slice + "mass"), mass_change,
                  value(header, last, slice + "mean_0"), value(header, last, slice + "cov_00"));
      EXPECT_LE(mass_change, 1e-12) << slice;
      EXPECT_NEAR(value(header, first, slice + "mass"), 1., 1e-12) << slice;
    }
  for (unsigned int k = 0; k < 3; ++k) // s = 0, 0.25, 0.4999
    {
      const std::string slice = "slice" + std::to_string(k) + "_";
      std::printf("T11 slice s = %.4f at t = 1: relative errors mean %.2e, variance %.2e; L2 %.2e\n",
                  value(header, last, slice + "s"), value(header, last, slice + "err_mean"),
                  value(header, last, slice + "err_cov"), value(header, last, slice + "err_l2"));
      EXPECT_NEAR(value(header, last, slice + "ref_mean_0"), exact_mean, 1e-9);
      EXPECT_NEAR(value(header, last, slice + "ref_cov_00"), exact_variance, 1e-10);
      EXPECT_LE(value(header, last, slice + "err_mean"), 1e-5);
      EXPECT_LE(value(header, last, slice + "err_cov"), 1e-5);
    }
  // The upper slices have no reference column (their keys mix both Gaussians).
  EXPECT_THROW(value(header, last, "slice3_err_mean"), std::out_of_range);
  // They attend to N(1, 0.5) below and are pulled towards it.
  EXPECT_GT(value(header, last, "slice4_mean_0"), value(header, first, "slice4_mean_0") + 0.1);
  EXPECT_LE(s.max_mass_defect, 1e-12);
}

namespace
{
  /// T11 twice, with different data above s = 1/2, in equal fixed steps to
  /// t = `end` (`extra`: further overrides of both): the solutions below 1/2
  /// must agree to round-off, those above must not.
  void expect_causality(const std::vector<std::string> &extra, double end)
  {
    // Fixed steps and no speed cap: the time step and the cap's density scale
    // are global, so they would couple the halves through the numerics.
    std::vector<std::string> common = {"Time stepping/negligible density=0"};
    common.insert(common.end(), extra.begin(), extra.end());
    auto other = common;
    other.push_back("Masked attention/upper mean=2.5");
    other.push_back("Masked attention/upper covariance=0.8");
    Simulation<2> a(parameters_from(t11, common), MPI_COMM_WORLD, quiet_without_output());
    Simulation<2> b(parameters_from(t11, other), MPI_COMM_WORLD, quiet_without_output());
    a.initialize();
    b.initialize();
    const double dt = 0.8 * std::min(a.stable_time_step(), b.stable_time_step());
    const int    steps = static_cast<int>(std::ceil(end / dt));
    for (int i = 0; i < steps; ++i)
      {
        ASSERT_TRUE(a.step(end / steps));
        ASSERT_TRUE(b.step(end / steps));
      }
    const auto        &space = a.space();
    const unsigned int n     = space.n_nodes();
    double             below = 0, above = 0, largest = 0, velocity_below = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const double difference = std::abs(space.cell_values(a.solution().begin(), k)[q] -
                                             space.cell_values(b.solution().begin(), k)[q]);
          const bool   lower      = space.node_point(k, q)[0] < 0.5;
          (lower ? below : above) = std::max(lower ? below : above, difference);
          largest = std::max(largest, std::abs(space.cell_values(a.solution().begin(), k)[q]));
          const std::size_t node = space.node_index(k, q);
          if (lower)
            velocity_below = std::max(velocity_below, std::abs(a.field().node_velocity()[node * 2 + 1] -
                                                               b.field().node_velocity()[node * 2 + 1]));
        }
    std::printf("causality after %d steps to t = %g: max |difference| / max density: s < 1/2 %.1e, "
                "s > 1/2 %.1e; velocity difference below %.1e\n",
                steps, end, below / largest, above / largest, velocity_below);
    EXPECT_LE(below, 1e-14 * largest);
    EXPECT_LE(velocity_below, 1e-14);
    EXPECT_GT(above, 0.1 * largest) << "the upper data must matter above 1/2";
  }
} // namespace

TEST(MaskedAttention, T11DataAboveOneHalfLeaveTheSolutionBelowUnchanged)
{
  expect_causality({}, 1.);
}

TEST(MaskedAttention, PositionalDecayKeepsTheSolutionBelowOneHalfUnchanged)
{
  // t = 0.3 (to keep the file short): the upper data has moved by then.
  expect_causality({"Masked attention/positional decay=2.5"}, 0.3);
}

TEST(MaskedAttention, SIndependentDataGiveTheUnmaskedSolutionOnEverySlice)
{
  // physics.md §2.7 (a): N(1, 0.5) at every s; compare with the unmasked run
  // on the same x-mesh and with the exact Gaussian. No speed cap: its bound
  // R h_min / dim depends on the mesh dimension.
  const RunSummary masked   = run_without_output(parameters_from(
    t11, {"Masked attention/upper data from=1", "Time stepping/negligible density=0"}));
  const RunSummary unmasked = run_without_output(
    parameters_from(t11, {"Attention/type=softmax", "Time stepping/negligible density=0"}));
  const double     mean     = column(unmasked.header, unmasked.last_row, "mean_0");
  const double     variance = column(unmasked.header, unmasked.last_row, "cov_00");
  double           worst = 0, worst_reference = 0;
  for (unsigned int k = 0; k < 6; ++k)
    {
      const std::string slice = "slice" + std::to_string(k) + "_";
      worst = std::max({worst, std::abs(column(masked.header, masked.last_row, slice + "mean_0") / mean - 1),
                        std::abs(column(masked.header, masked.last_row, slice + "cov_00") / variance - 1)});
      worst_reference = std::max({worst_reference, column(masked.header, masked.last_row, slice + "err_mean"),
                                  column(masked.header, masked.last_row, slice + "err_cov")});
    }
  std::printf("s-independent data at t = 1: slices vs unmasked run %.1e (relative), vs exact Gaussian %.2e\n",
              worst, worst_reference);
  EXPECT_LE(worst, 1e-10);
  EXPECT_LE(worst_reference, 1e-5);
  EXPECT_EQ(masked.steps, unmasked.steps);
}

TEST(MaskedAttention, FieldIsTheExactCumulativeIntegralForSDependentData)
{
  // Weights of two Gaussians vary with s (linear in s, so the slices differ
  // inside every cell); three s-cells, then a local refinement (hanging
  // faces, cells of different s-extent side by side); without and with
  // positional decay.
  for (const std::string decay : {"0", "3"})
    {
      const auto    p = s_dependent_parameters({"Masked attention/positional decay=" + decay});
      Simulation<2> simulation(p, MPI_COMM_WORLD, quiet_without_output());
      simulation.initialize();
      double       node_mask = 0;
      const double error     = cumulative_field_error(simulation, p, node_mask);
      std::printf("lambda = %s: masked field vs direct cumulative integral: %.2e (masking the nodes instead: %.2e)\n",
                  decay.c_str(), error, node_mask);
      EXPECT_LE(error, 1e-12);
      EXPECT_GE(node_mask, 1e-4) << "the test must tell an exact mask from a node mask";

      simulation.adapt_mesh([](DGSpace<2> &space) {
        for (std::size_t k = 0; k < space.n_owned_cells(); k += 3)
          space.owned_cell(k)->set_refine_flag();
      });
      simulation.update_velocity();
      const double refined = cumulative_field_error(simulation, p, node_mask);
      std::printf("after local refinement (%u cells): %.2e\n",
                  simulation.space().triangulation->n_global_active_cells(), refined);
      EXPECT_LE(refined, 1e-12);
    }
}

TEST(MaskedAttention, TwoDimensionalTokensOnA3DMesh)
{
  const auto p = read_parameters(
    source_path("tests/data/small-2d.prm"),
    {"Output/write vtu=false", "Attention/type=masked", "Masked attention/s subdivisions=2",
     "Masked attention/slices=0.25, 0.75", "Masked attention/upper data from=0.5",
     "Masked attention/upper mean=-1, 0.5", "Masked attention/upper covariance=0.5, 0; 0, 0.8",
     "Time stepping/end time=0.05", "Time stepping/negligible density=0"});
  Simulation<3> simulation(p, MPI_COMM_WORLD, quiet_without_output());
  simulation.initialize();
  double       node_mask = 0;
  const double error     = cumulative_field_error(simulation, p, node_mask);
  const auto   header    = simulation.statistics_header();
  const auto   first     = simulation.statistics_row(0, 0., 0.);
  const RunSummary s     = simulation.run();
  std::printf("d = 2: field vs direct cumulative integral %.2e (node mask %.2e); %lu steps; slice 0 "
              "covariance error %.2e (coarse), mass defect %.1e\n",
              error, node_mask, s.steps, column(header, s.last_row, "slice0_err_cov"), s.max_mass_defect);
  EXPECT_LE(error, 1e-12);
  EXPECT_GT(s.steps, 0u);
  EXPECT_LE(s.max_mass_defect, 1e-12);
  for (const char *name : {"slice0_mass", "slice1_mass"})
    EXPECT_NEAR(column(header, s.last_row, name), column(header, first, name), 1e-12) << name;
  // Coarse (h = 1.5, Q2): a covariance error of 1.5e-3 at t = 0.05, not
  // round-off, but the reference is there (below 1/2 only) and followed.
  EXPECT_LE(column(header, s.last_row, "slice0_err_cov"), 5e-3);
  EXPECT_THROW(column(header, s.last_row, "slice1_err_cov"), std::out_of_range);
}

TEST(MaskedAttention, NegativePositionalDecayIsAnInputError)
{
  const auto result = run_tpde("run " + source_path(t11) + " --quiet --set \"Masked attention/positional decay=-0.5\"");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("masked-1d-causality.prm: subsection 'Masked attention', entry 'positional decay': "
                               "expected a number >= 0, got -0.5"),
            std::string::npos)
    << result.output;
  EXPECT_LE(std::count(result.output.begin(), result.output.end(), '\n'), 1) << "one line: " << result.output;
}
