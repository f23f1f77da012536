#include "run/simulation.h"

#include "run/domain_setup.h"

#include "common/collective.h"
#include "adaptation/mesh_adaptation.h"
#include "adaptation/transfer.h"
#include "checkpoint/checkpoint_schedule.h"
#include "checkpoint/grid_state.h"
#include "initial/initial_condition.h"
#include "run/output_folder.h"
#include "run/run_size.h"
#include "run/step_estimate.h"

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

namespace tpde
{
  namespace
  {
    /// Messages from deeper layers may lack the file name.
    InputError with_file(const Parameters &p, const InputError &e)
    {
      const std::string message = e.what();
      if (message.rfind(p.file, 0) == 0)
        return e;
      return InputError(p.file + ": " + message);
    }

    std::string number(double value)
    {
      std::ostringstream s;
      s.precision(3);
      s << value;
      return s.str();
    }

    /// The first point of `points` (n x dim) where `density` < 0, as a message.
    template <int dim>
    std::optional<std::string> first_negative(const dealii::Function<dim> &density, const std::vector<double> &points)
    {
      for (std::size_t k = 0; k + dim <= points.size(); k += dim)
        {
          dealii::Point<dim> x;
          for (unsigned int c = 0; c < dim; ++c)
            x[c] = points[k + c];
          const double value = density.value(x);
          if (value < 0 || std::isnan(value))
            {
              std::ostringstream where;
              where.precision(6);
              where << "expected a density >= 0 on the mesh, got " << value << " at (";
              for (unsigned int c = 0; c < dim; ++c)
                where << (c ? ", " : "") << x[c];
              where << ")";
              return where.str();
            }
        }
      return std::nullopt;
    }

    /// An initial density that is negative (or NaN) at a node or a
    /// projection point of the mesh is an input error (the limiter would
    /// otherwise silently clip it); only an expression can be.
    template <int dim, int spacedim>
    void check_initial_density(const DGSpace<dim, spacedim> &space, const Parameters &p, MPI_Comm comm)
    {
      const auto                 initial = make_initial_density<dim, spacedim>(p.initial);
      std::optional<std::string> error   = first_negative(*initial, space.all_node_points());
      std::vector<double>        cell_points; // one cell's projection points at a time
      for (std::size_t k = 0; k < space.n_owned_cells() && !error; ++k)
        {
          cell_points.clear();
          for (unsigned int q = 0; q < space.n_fine_points(); ++q)
            cell_points.insert(cell_points.end(), space.fine_point(k, q), space.fine_point(k, q) + spacedim);
          error = first_negative(*initial, cell_points);
        }
      if (error)
        error = p.file + ": subsection 'Initial condition', entry 'expression': " + *error;
      throw_if_any_rank_failed<InputError>(comm, error);
    }

    /// domain = file: the size is known once the mesh is read.
    template <int dim, int spacedim>
    void check_mesh_size(const DGSpace<dim, spacedim> &space, const Parameters &p)
    {
      if (p.mesh.domain != MeshParameters::Domain::file)
        return;
      // Every rank decides the same way (one node's memory), so none is left in a collective.
      collectively<InputError>(space.communicator, [&]() {
        check_run_size(p, run_size_of(space.triangulation->n_global_active_cells(), space.dof_handler.n_dofs()));
      });
    }
  } // namespace

  template <int dim, int spacedim>
  Simulation<dim, spacedim>::Simulation(const Parameters &parameters, MPI_Comm communicator, RunOptions options)
    : parameters(parameters)
    , communicator(communicator)
    , options(options)
  {}

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::initialize()
  {
    try
      {
        if (options.resume)
          read_checkpoint();
        MeshParameters mesh = parameters.mesh;
        if (resumed)
          mesh.global_refinements = 0; // the checkpoint's cells are refined from the coarse mesh
        dg_space = std::make_unique<DGSpace<dim, spacedim>>(mesh, parameters.discretization, parameters.masked(),
                                                  parameters.file, communicator);
        if (resumed)
          refine_to_checkpoint(*dg_space, *resumed);
        dg_space->setup();
        if (!resumed)
          {
            check_mesh_size(*dg_space, parameters);
            check_initial_density(*dg_space, parameters, communicator);
          }
        attention_kernel = create_kernel(parameters);
        attention_field  = std::make_unique<AttentionField<dim, spacedim>>(
          *dg_space, *attention_kernel, parameters.discretization.interpolate_face_velocity);
        attention_field->setup();
        common_noise = noise::attach_common_noise(*attention_field, parameters.noise, &current_time);
        transport = std::make_unique<TransportOperator<dim, spacedim>>(*dg_space);
        if (parameters.noise.has_diffusion())
          (diffusion = std::make_unique<DiffusionOperator<dim, spacedim>>(*dg_space, parameters.noise.diffusion))->setup();
        for (VectorType *v : {&density, &stage_start, &stage, &rate})
          dg_space->initialize_vector(*v);
        dg_space->initialize_ghosted_vector(ghosted_density);
        stage_coefficients = parameters.time.scheme.stage_coefficients;

        if (resumed)
          restore_density(*dg_space, *resumed, density);
        else
          project_initial_data();

        auto exact = exact_gaussian_reference(parameters);
        statistics = std::make_unique<Statistics<dim, spacedim>>(*dg_space, std::move(exact), attention_kernel.get());
        if (parameters.mesh.on_sphere() && !parameters.masked()) // masked: modes per slice
          statistics->add_sphere(*attention_field, sphere_setup(parameters));
        if (parameters.masked())
          {
            statistics->add_slices(masked_slice_setup(parameters));
          }
      }
    catch (const InputError &e)
      {
        throw with_file(parameters, e);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(parameters.file + ": " + e.what());
      }
    current_time = 0;
    outflow_mass = 0;
    initialized  = true;
    if (resumed)
      {
        restore_state();
        update_velocity();
        return;
      }
    // Adaptive pre-refinement: adapt to the projected data, then project the
    // initial density again on the finer mesh.
    if (parameters.refinement.adaptive)
      for (unsigned int cycle = 0; cycle < parameters.refinement.initial_refinements; ++cycle)
        {
          if (!adapt_mesh())
            break; // resolved: nothing flagged
          project_initial_data();
        }
    lowest_check_value = positivity_limiter(*dg_space, density.begin(), Limiting::measure).min_check_value;
    update_velocity();
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::project_initial_data()
  {
    const auto initial = make_initial_density<dim, spacedim>(parameters.initial);
    project_initial_density(*dg_space, *initial, parameters.initial.projection,
                            limiting(parameters.discretization), density);
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::rebuild_after_mesh_change()
  {
    dg_space->setup();
    attention_field->setup();
    for (VectorType *v : {&density, &stage_start, &stage, &rate})
      dg_space->initialize_vector(*v);
    dg_space->initialize_ghosted_vector(ghosted_density);
    if (diffusion)
      diffusion->setup();
    if (vtk)
      vtk->setup();
  }

  template <int dim, int spacedim>
  bool Simulation<dim, spacedim>::adapt_mesh()
  {
    ghosted_density = density;
    dg_space->extend(density, ghosted_density, extended);
    indicator = refinement_indicator(*dg_space, extended, parameters.refinement.indicator, parameters.attention_type,
                                     parameters.layers.attention[parameters.layers.layer_at(current_time)]);
    if (!flag_cells_for_adaptation(*dg_space, indicator, parameters.refinement))
      return false;
    adapt_mesh([](DGSpace<dim, spacedim> &) {}); // flagged above
    // For the output: the indicator of the new mesh.
    ghosted_density = density;
    dg_space->extend(density, ghosted_density, extended);
    indicator = refinement_indicator(*dg_space, extended, parameters.refinement.indicator, parameters.attention_type,
                                     parameters.layers.attention[parameters.layers.layer_at(current_time)]);
    return true;
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::adapt_mesh(const std::function<void(DGSpace<dim, spacedim> &)> &flag)
  {
    flag(*dg_space);
    // A polynomial that is non-negative at a cell's check points may still be
    // negative on part of it: limit at the future children's check points
    // first (mean-preserving) so refined cells start non-negative.
    if (parameters.discretization.positivity_limiter)
      positivity_limiter(*dg_space, density.begin(), limiting(parameters.discretization), true);
    refine_and_transfer(*dg_space, density, ghosted_density, [this]() { rebuild_after_mesh_change(); });
    // Cell means are kept by the transfer; the limiter restores positivity
    // at the new cells' check points without changing them.
    lowest_check_value =
      positivity_limiter(*dg_space, density.begin(), limiting(parameters.discretization)).min_check_value;
    indicator.clear();
    velocity_is_current = false; // evaluated when next needed (the run loop or step())
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::update_velocity()
  {
    attention_kernel->begin_step(); // the velocity a step starts from (see Kernel::begin_step)
    evaluate_velocity(density);
    velocity_is_current = true;
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::evaluate_velocity(const VectorType &values)
  {
    std::optional<std::string> error;
    attention_kernel->select_at(parameters.layers, current_time); // a step's stages share its start's layer
    try
      {
        attention_field->evaluate(values.begin());
      }
    catch (const std::invalid_argument &e)
      {
        // e.g. all mass has left the domain: there is no attention to evaluate.
        error = "the attention velocity cannot be evaluated at t = " + std::to_string(current_time) +
                ": " + e.what();
      }
    throw_if_any_rank_failed<PhysicalFailure>(communicator, error);
    if (parameters.time.negligible_density > 0)
      {
        ghosted_density = values;
        dg_space->extend(values, ghosted_density, extended);
        transport->cap_speed_where_empty(extended, parameters.time.negligible_density,
                                         attention_field->node_velocity(), attention_field->face_velocity());
      }
  }

  template <int dim, int spacedim>
  double Simulation<dim, spacedim>::stable_time_step() const
  {
    const double rate = transport->inverse_time_scale(attention_field->node_velocity(),
                                                      attention_field->face_velocity());
    if (!std::isfinite(rate))
      return std::numeric_limits<double>::quiet_NaN(); // the run loop stops: velocity not finite
    const double p = dg_space->degree();
    double       dt = rate > 0 ? parameters.time.cfl / ((2 * p + 1) * rate) : parameters.time.end_time;
    if (parameters.time.maximum_time_step > 0)
      dt = std::min(dt, parameters.time.maximum_time_step);
    return dt;
  }

  template <int dim, int spacedim>
  bool Simulation<dim, spacedim>::transport_step(double dt, bool update_velocity_at_end)
  {
    if (!velocity_is_current)
      update_velocity();
    stage_start                 = density;
    double       stage_outflow  = outflow_mass;
    const double start_outflow  = outflow_mass;
    double       lowest         = std::numeric_limits<double>::max();
    const std::size_t n_owned   = dg_space->n_owned_dofs();

    for (std::size_t s = 0; s < stage_coefficients.size(); ++s)
      {
        const VectorType &previous = s == 0 ? stage_start : stage;
        if (s > 0)
          evaluate_velocity(stage);
        ghosted_density = previous;
        dg_space->extend(previous, ghosted_density, extended);
        const double local_outflow =
          transport->apply(extended, attention_field->node_velocity(),
                           attention_field->face_velocity(), rate.begin());
        const double boundary_rate = dealii::Utilities::MPI::sum(local_outflow, communicator);

        // In place for s > 0: the rate has already been computed from `previous`.
        const double  a    = stage_coefficients[s];
        const double *u0   = stage_start.begin();
        const double *prev = previous.begin();
        const double *r    = rate.begin();
        double       *next = stage.begin();
        for (std::size_t i = 0; i < n_owned; ++i)
          next[i] = a * u0[i] + (1 - a) * (prev[i] + dt * r[i]);
        stage_outflow = a * start_outflow + (1 - a) * (stage_outflow + dt * boundary_rate);

        bool finite = true;
        for (std::size_t i = 0; i < n_owned; ++i)
          finite = finite && std::isfinite(stage.begin()[i]);
        if (dealii::Utilities::MPI::min(finite ? 1 : 0, communicator) == 0)
          throw PhysicalFailure("the density became non-finite (NaN or infinity) at t = " +
                                std::to_string(current_time) + " with dt = " + std::to_string(dt));

        const LimiterResult limited =
          positivity_limiter(*dg_space, stage.begin(), limiting(parameters.discretization));
        if (parameters.discretization.positivity_limiter && limited.min_cell_mean < -1e-10)
          {
            // Negative cell means cannot come from a stable step: reject it.
            density             = stage_start;
            outflow_mass        = start_outflow;
            velocity_is_current = false;
            return false;
          }
        lowest = std::min(lowest, limited.min_check_value);
      }
    density             = stage;
    outflow_mass        = stage_outflow;
    current_time       += dt;
    lowest_check_value  = lowest;
    if (update_velocity_at_end)
      update_velocity();
    return true;
  }

  template <int dim, int spacedim>
  std::vector<double> Simulation<dim, spacedim>::statistics_row(unsigned long step, double dt, double wall_seconds)
  {
    StatisticsInput in;
    in.step          = step;
    in.time          = current_time;
    in.dt            = dt;
    in.outflow       = outflow_mass;
    in.min_density   = lowest_check_value;
    in.wall_seconds  = wall_seconds;
    in.owned_values  = density.begin();
    in.node_velocity = attention_field->node_velocity();
    return statistics->compute(in);
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::open_outputs()
  {
    const bool                  root = dealii::Utilities::MPI::this_mpi_process(communicator) == 0;
    const std::filesystem::path directory(parameters.output.directory);
    // Only rank 0 writes these; a failure there must stop every rank.
    collectively<InputError>(communicator, [&]() {
      const auto where = parameters.file + ": subsection 'Output', entry 'directory': ";
      if (options.write_output && root)
        {
          try
            {
              if (options.overwrite)
                remove_previous_run(previous_run_files(directory, RunKind::grid));
              if (progress) // files written after the checkpoint by the stopped run
                remove_outputs_not_in(directory, RunKind::grid, progress->outputs);
              write_parameters_prm(directory, parameters.as_prm);
            }
          catch (const std::filesystem::filesystem_error &e)
            {
              throw InputError(where + "cannot create '" + directory.string() + "': " + e.code().message());
            }
          catch (const std::exception &e)
            {
              throw InputError(where + e.what());
            }
        }
      try
        {
          statistics_file = std::make_unique<StatisticsFile>(
            (directory / "statistics.csv").string(), statistics->header(), options.write_output && root,
            progress ? std::optional<std::uint64_t>(progress->statistics_bytes) : std::nullopt);
        }
      catch (const std::exception &e)
        {
          throw InputError(where + e.what());
        }
    });
    if (options.write_output && parameters.output.write_vtu)
      {
        vtk = std::make_unique<VtkOutput<dim, spacedim>>(*dg_space, parameters.output.directory,
                                               parameters.masked() ? std::vector<std::string>{"s", parameters.mesh.on_sphere() ? "theta" : "x", "y"} :
                                                                     std::vector<std::string>{});
        vtk->setup();
        if (progress)
          vtk->resume(progress->outputs);
      }
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::write_vtk()
  {
    if (vtk)
      {
        ghosted_density = density;
        vtk->write(current_time, ghosted_density, attention_field->node_velocity(), indicator);
      }
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::print_run_line() const
  {
    std::cout << "TPDE " << dim << "D, " << parameters.attention_type << " attention, "
              << dg_space->triangulation->n_global_active_cells() << " cells, "
              << dg_space->dof_handler.n_dofs() << " DoFs (Q" << dg_space->degree() << "), "
              << attention_field->n_sources() << " attention sources" << std::endl;
    if (progress)
      std::cout << "resumed from " << resumed->origin() << " at t = " << current_time << ", step " << progress->step
                << std::endl;
  }

  template <int dim, int spacedim>
  double Simulation<dim, spacedim>::advance(const OutputSchedule &schedule, RunSummary &summary)
  {
    double dt = stable_time_step();
    if (!(dt > 1e-12 * parameters.time.end_time))
      throw PhysicalFailure("the time step collapsed to " + std::to_string(dt) + " at t = " +
                            std::to_string(current_time) + " (velocity " +
                            (std::isfinite(dt) ? "too large" : "not finite") + ")");
    check_step_shrink(dt, summary);
    // Land exactly on output times and the end time.
    dt                    = schedule.limit_step(current_time, dt);
    dt                    = common_noise ? common_noise->limit_step(current_time, dt) : dt;
    unsigned int halvings = 0;
    while (!step(dt))
      {
        ++summary.rejected_steps;
        if (++halvings > 30)
          throw PhysicalFailure("CFL failure: no time step keeps the cell means non-negative at t = " +
                                std::to_string(current_time) + " (dt = " + std::to_string(dt) + ")");
        dt *= 0.5;
      }
    return dt;
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::check_step_shrink(double dt, RunSummary &summary) const
  {
    const auto &t = parameters.time;
    if (summary.first_dt == 0)
      summary.first_dt = dt;
    // Steps still needed at this dt, on top of those taken (summary.steps counts them as we go).
    const double needed    = summary.steps + (t.end_time - current_time) / dt;
    const bool   shrunk    = dt < t.step_shrink * summary.first_dt;
    // A step held at `maximum time step` on purpose (a time-error study) is
    // not a blow-up; the plain budget still applies to it.
    const bool capped    = t.maximum_time_step > 0 && dt >= t.maximum_time_step * (1 - 1e-12);
    const bool unbounded = !capped && t.maximum_steps > 0 && needed > static_cast<double>(t.maximum_steps);
    if (t.shrink_steps == 0 || !(shrunk || unbounded))
      {
        summary.shrunk_steps = 0;
        return;
      }
    if (++summary.shrunk_steps < t.shrink_steps)
      return;
    const std::string steps = std::to_string(summary.shrunk_steps) + " steps, now " + number(dt) + " at t = " +
                              number(current_time);
    if (shrunk)
      throw PhysicalFailure("blow-up: the time step stayed below " + number(t.step_shrink) + " of the first step's (" +
                            number(summary.first_dt) + ") for " + steps +
                            " (Time stepping/step shrink and shrink steps)");
    throw PhysicalFailure("blow-up: at its time step the run would need " + number(needed) +
                          " steps, more than Time stepping/maximum steps = " + std::to_string(t.maximum_steps) +
                          ", for " + steps + " (shrink steps)");
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::check_budget_and_mass(unsigned long step, RunSummary &summary, bool talk) const
  {
    const auto &t = parameters.time;
    if (t.maximum_steps > 0 && step >= t.maximum_steps && current_time < t.end_time * (1 - 1e-14))
      throw PhysicalFailure("the step budget (Time stepping/maximum steps = " + std::to_string(t.maximum_steps) +
                            ") is spent at t = " + number(current_time) + " of " + number(t.end_time));
    if (!(t.minimum_mass > 0))
      return;
    const double mass = column(summary.header, summary.last_row, "mass");
    if (mass < 10 * t.minimum_mass && !summary.mass_warning && talk)
      std::printf("warning: the mass left in the domain is %.3e at t = %.6g, below 10 x Time stepping/minimum "
                  "mass = %g; the run stops below %g\n", mass, current_time, t.minimum_mass, t.minimum_mass);
    summary.mass_warning = summary.mass_warning || mass < 10 * t.minimum_mass;
    if (!(mass >= t.minimum_mass))
      throw PhysicalFailure("the mass left in the domain fell to " + number(mass) + " at t = " + number(current_time) +
                            ", below Time stepping/minimum mass = " + number(t.minimum_mass) +
                            " (the rest left through the boundary: outflow " + number(outflow_mass) + ")");
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::record(unsigned long step, double dt, const RunClock &clock, RunSummary &summary)
  {
    summary.last_row = statistics_row(step, dt, clock.seconds());
    summary.max_mass_defect =
      std::max(summary.max_mass_defect,
               std::abs(column(summary.header, summary.last_row, "mass") + outflow_mass - 1.));
    summary.min_check_value = std::min(summary.min_check_value, lowest_check_value);
    summary.diffusion_clipped_mass = diffusion_clipped_mass;
    statistics_file->write(summary.last_row);
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::report_progress(unsigned long step, double dt, RunClock &clock,
                                        const RunSummary &summary) const
  {
    const double end_time = parameters.time.end_time;
    const auto   elapsed  = clock.progress_due(current_time >= end_time * (1 - 1e-14));
    if (!elapsed)
      return;
    if (options.progress)
      options.progress({step, current_time, end_time, dt});
    if (options.quiet)
      return;
    const double eta = *elapsed / current_time * (end_time - current_time);
    std::printf("step %7lu  t = %.6g / %g (%5.1f%%)  dt = %.3e  mass = %.15f  ETA %.0f s\n", step, current_time,
                end_time, 100 * current_time / end_time, dt, column(summary.header, summary.last_row, "mass"), eta);
    std::fflush(stdout);
  }

  template <int dim, int spacedim>
  RunSummary Simulation<dim, spacedim>::run()
  {
    RunClock clock;
    if (!initialized)
      initialize();
    const bool root = dealii::Utilities::MPI::this_mpi_process(communicator) == 0;
    const bool talk = root && !options.quiet;
    open_outputs();

    RunSummary summary;
    summary.header          = statistics->header();
    summary.min_check_value = lowest_check_value;
    OutputSchedule schedule(parameters.output.interval, parameters.time.end_time,
                            parameters.layers.boundaries(parameters.time.end_time));
    unsigned long  step_count = 0;
    if (resumed)
      step_count = resume_run(summary, schedule, clock);
    else
      {
        record(0, 0., clock, summary);
        write_vtk();
      }
    if (talk)
      print_run_line();

    CheckpointSchedule checkpoints(parameters.checkpoint, current_time, clock.seconds());
    while (!schedule.finished(current_time))
      {
        const double dt = advance(schedule, summary);
        summary.steps = ++step_count;
        if (parameters.refinement.adaptive && step_count % parameters.refinement.interval == 0)
          if (adapt_mesh())
            update_velocity();
        record(step_count, dt, clock, summary);
        if (schedule.pass(current_time))
          write_vtk();
        check_budget_and_mass(step_count, summary, root);
        if (talk || (options.progress && root))
          report_progress(step_count, dt, clock, summary);
        if (options.write_output && checkpoints.due(current_time, clock.seconds(), communicator) &&
            !schedule.finished(current_time))
          write_checkpoint(step_count, summary, schedule, clock);
      }
    summary.steps        = step_count;
    summary.time         = current_time;
    if (options.write_output && parameters.checkpoint.at_end)
      write_checkpoint(step_count, summary, schedule, clock);
    summary.wall_seconds = clock.seconds();
    if (talk)
      std::printf("done: %lu steps (%lu rejected) in %.2f s on %.2f cores%s; max |mass + outflow - 1| = %.2e%s\n",
                  summary.steps, summary.rejected_steps, summary.wall_seconds, clock.cores(),
                  resumed ? " (cores since the resume)" : "", summary.max_mass_defect,
                  diffusion ? ("; mass of negative cell means after diffusion " + number(diffusion_clipped_mass)).c_str() : "");
    return summary;
  }

  namespace
  {
    template <int dim, int spacedim>
    RunSummary run_in(const Parameters &p, MPI_Comm comm, RunOptions options)
    {
      Simulation<dim, spacedim> simulation(p, comm, options);
      return simulation.run();
    }

    template <int dim, int spacedim>
    RunSize validate_in(const Parameters &p, MPI_Comm comm)
    {
      try
        {
          // Everything a run checks before writing, except the attention
          // evaluation: mesh, DoFs and faces, kernel, initial projection.
          DGSpace<dim, spacedim> space(p.mesh, p.discretization, p.masked(), p.file, comm);
          space.setup();
          check_mesh_size(space, p);
          check_initial_density(space, p, comm);
          const auto kernel = create_kernel(p);
          VectorType density;
          space.initialize_vector(density);
          const auto initial = make_initial_density<dim, spacedim>(p.initial);
          project_initial_density(space, *initial, p.initial.projection,
                                  limiting(p.discretization), density);
          RunSize size = run_size_of(space.triangulation->n_global_active_cells(), space.dof_handler.n_dofs());
          size.step_seconds = estimate_step_seconds(space, density, *kernel,
                                                    p.time.scheme.stage_coefficients.size());
          return size;
        }
      catch (const InputError &e)
        {
          throw with_file(p, e);
        }
    }

    /// Before anything is allocated or written: the output folder (writable,
    /// no previous run unless `overwrite`) and the size of the run.
    void check_before_run(const Parameters &p, MPI_Comm comm, bool check_output, bool overwrite, bool resume = false)
    {
      // A rank that fails alone must not leave the others waiting in the
      // first collective of the run.
      collectively<InputError>(comm, [&]() {
        if (check_output)
          {
            check_output_directory(p);
            if (!resume) // a resumed run continues the folder's run
              refuse_previous_run(previous_run_files(p.output.directory, RunKind::grid),
                                  p.file + ": subsection 'Output', entry 'directory': ", p.output.directory,
                                  overwrite);
          }
        check_run_size(p, estimate_run_size(p));
      });
    }
  } // namespace

  RunSummary run_simulation(const Parameters &p, MPI_Comm comm, RunOptions options)
  {
    check_before_run(p, comm, options.write_output, options.overwrite, options.resume);
    if (p.on_surface())
      return run_in<2, 3>(p, comm, options);
    switch (p.mesh_dimension())
      {
        case 1:
          return run_in<1, 1>(p, comm, options);
        case 2:
          return run_in<2, 2>(p, comm, options);
        default:
          return run_in<3, 3>(p, comm, options);
      }
  }

  RunSize validate_run(const Parameters &p, MPI_Comm comm, bool overwrite)
  {
    check_before_run(p, comm, true, overwrite);
    if (p.on_surface())
      return validate_in<2, 3>(p, comm);
    switch (p.mesh_dimension())
      {
        case 1:
          return validate_in<1, 1>(p, comm);
        case 2:
          return validate_in<2, 2>(p, comm);
        default:
          return validate_in<3, 3>(p, comm);
      }
  }

  template class Simulation<1>;
  template class Simulation<2>;
  template class Simulation<3>;
  template class Simulation<2, 3>;
} // namespace tpde
