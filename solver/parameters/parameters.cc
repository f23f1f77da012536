#include "parameters/parameters.h"
#include "attention/exponential_kernel.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/utilities.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace tpde
{
  namespace
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    /// deal.II exception messages span several indented lines; users get one.
    std::string one_line(const std::string &text)
    {
      std::string out;
      bool        space = false;
      for (char c : text)
        {
          if (c == '\n' || c == '\t' || c == ' ' || c == '\r')
            space = !out.empty();
          else
            {
              if (space)
                out += ' ';
              out += c;
              space = false;
            }
        }
      return out;
    }

    std::string message_of(const dealii::ExceptionBase &e)
    {
      std::ostringstream s;
      e.print_info(s);
      return one_line(s.str());
    }

    /// Reads entries of one subsection and produces uniform error messages.
    class Reader
    {
    public:
      Reader(ParameterHandler &prm, std::string file, std::string subsection)
        : prm(prm)
        , file(std::move(file))
        , subsection(std::move(subsection))
      {}

      [[noreturn]] void fail(const std::string &entry, const std::string &expected) const
      {
        std::string where = file + ": ";
        if (!subsection.empty())
          where += "subsection '" + subsection + "', ";
        throw InputError(where + "entry '" + entry + "': " + expected);
      }

      std::string text(const std::string &entry) const { return prm.get(entry); }

      std::vector<double> vector(const std::string &entry, unsigned int size) const
      {
        const std::string   value = prm.get(entry);
        std::vector<double> v;
        for (const auto &item : dealii::Utilities::split_string_list(value, ','))
          {
            const auto x = parse_number(item);
            if (!x)
              fail(entry, "expected a list of numbers separated by ',', but '" + item +
                            "' is not a number");
            v.push_back(*x);
          }
        if (v.size() == 1 && size > 1)
          v.assign(size, v[0]); // one value stands for every direction
        if (v.size() != size)
          fail(entry, "expected " + std::to_string(size) + " numbers (one per dimension), got " +
                        std::to_string(v.size()));
        return v;
      }

      /// Empty text means the identity (when square_default > 0).
      Matrix matrix(const std::string &entry, unsigned int square_default = 0) const
      {
        const std::string value = prm.get(entry);
        if (value.find_first_not_of(" \t") == std::string::npos && square_default > 0)
          return Matrix::identity(square_default);
        try
          {
            return Matrix::parse(value);
          }
        catch (const std::invalid_argument &e)
          {
            fail(entry, std::string("expected a matrix with rows separated by ';' and entries "
                                    "by ',' (for example '1, 0; 0, 1'), but ") +
                          e.what());
          }
      }

      ParameterHandler &prm;
      std::string       file;
      std::string       subsection;
    };

    std::string matrix_shape(const Matrix &m)
    {
      return std::to_string(m.rows) + " x " + std::to_string(m.cols);
    }

    void check_covariance(const Reader &r, const std::string &entry, const Matrix &c, unsigned int dim)
    {
      if (c.rows != dim || c.cols != dim)
        r.fail(entry, "expected a " + std::to_string(dim) + " x " + std::to_string(dim) +
                        " covariance matrix, got " + matrix_shape(c));
      if (!is_symmetric_positive_definite(c))
        r.fail(entry, "expected a symmetric positive definite covariance matrix, got '" +
                        c.to_string() + "'");
    }

    /// multihead: `heads` heads from the '|'-separated per-head entries head Q,
    /// head K, head C (matrices; empty: the d x d identity) and head beta; a
    /// single item stands for every head. Shapes are checked by the variant.
    std::vector<attention::Parameters::Head> read_heads(const Reader &r, unsigned int dim)
    {
      const std::size_t n     = r.prm.get_integer("heads");
      const auto        items = [&](const std::string &entry) {
        auto list = dealii::Utilities::split_string_list(r.text(entry), '|');
        if (list.size() <= 1)
          list.assign(n, list.empty() ? std::string() : list.front());
        if (list.size() != n)
          r.fail(entry, "expected " + std::to_string(n) + " items separated by '|' (one per head, " +
                          "or one for every head), got " + std::to_string(list.size()));
        return list;
      };
      std::vector<attention::Parameters::Head> heads(n);
      for (const auto &[entry, member] : {std::pair{"head Q", &attention::Parameters::Head::Q},
                                          std::pair{"head K", &attention::Parameters::Head::K},
                                          std::pair{"head C", &attention::Parameters::Head::C}})
        {
          const auto texts = items(entry);
          for (std::size_t h = 0; h < n; ++h)
            try
              {
                heads[h].*member = texts[h].find_first_not_of(" \t") == std::string::npos ?
                                     Matrix::identity(dim) :
                                     Matrix::parse(texts[h]);
              }
            catch (const std::invalid_argument &e)
              {
                r.fail(entry, "expected one matrix per head (rows separated by ';', entries by "
                              "',', heads by '|'), but head " + std::to_string(h + 1) + ": " +
                                e.what());
              }
        }
      const auto betas = items("head beta");
      for (std::size_t h = 0; h < n; ++h)
        {
          const auto value = parse_number(betas[h]);
          if (!value)
            r.fail("head beta", "expected one number per head separated by '|', but '" +
                                  betas[h] + "' is not a number");
          heads[h].beta = *value;
        }
      return heads;
    }

    void apply_override(ParameterHandler &prm, const std::string &assignment)
    {
      const auto eq = assignment.find('=');
      if (eq == std::string::npos)
        throw InputError("command line: --set '" + assignment +
                         "': expected 'Subsection/entry=value'");
      const std::string path  = dealii::Utilities::trim(assignment.substr(0, eq));
      const std::string value = dealii::Utilities::trim(assignment.substr(eq + 1));
      std::vector<std::string> parts;
      std::stringstream        s(path);
      std::string              part;
      while (std::getline(s, part, '/'))
        parts.push_back(dealii::Utilities::trim(part));
      unsigned int entered = 0;
      try
        {
          for (std::size_t i = 0; i + 1 < parts.size(); ++i)
            {
              prm.enter_subsection(parts[i]);
              ++entered;
            }
          prm.set(parts.back(), value);
        }
      catch (const dealii::ExceptionBase &e)
        {
          for (; entered > 0; --entered)
            prm.leave_subsection();
          throw InputError("command line: --set '" + assignment + "': " + message_of(e));
        }
      for (; entered > 0; --entered)
        prm.leave_subsection();
    }

    void parse_into_handler(ParameterHandler               &prm,
                            const std::string              &text,
                            const std::string              &name,
                            const std::vector<std::string> &overrides)
    {
      declare_parameters(prm);
      std::istringstream in(text);
      try
        {
          prm.parse_input(in, name, "", false);
        }
      catch (const dealii::ExceptionBase &e)
        {
          // deal.II's parse messages already name the file and line.
          const std::string message = message_of(e);
          throw InputError(message.find(name) != std::string::npos ? message : name + ": " + message);
        }
      for (const auto &o : overrides)
        apply_override(prm, o);
    }

    /// `subsection Masked attention` and the checks of the other entries
    /// that masked attention restricts; then prepends the s axis [0, 1] to
    /// the mesh (the first coordinate of every point).
    void read_masked_attention(const Reader &r, Parameters &p)
    {
      const unsigned int dim = p.dimension; // <= 2, checked with the attention type
      if (p.mesh.domain != "box")
        Reader(r.prm, r.file, "Mesh").fail("domain", "masked attention needs domain = box (the s "
                                                     "axis [0, 1] is added to the box)");
      auto &m          = p.masked_attention;
      m.s_subdivisions = r.prm.get_integer("s subdivisions");
      for (const auto &item : dealii::Utilities::split_string_list(r.text("slices"), ','))
        {
          const auto s = parse_number(item);
          if (!s || !(*s >= 0. && *s <= 1.))
            r.fail("slices", "expected positions s in [0, 1] separated by ',', got '" + item + "'");
          m.slices.push_back(*s);
        }
      auto &ic        = p.initial;
      ic.s_coordinate = true;
      ic.upper_from   = r.prm.get_double("upper data from");
      if (!(ic.upper_from > 0.))
        r.fail("upper data from", "expected a position s in (0, 1], got " + r.text("upper data from"));
      if (ic.upper_from < 1.)
        {
          // Both parts must be probability densities in x, so that every
          // slice carries the same mass (the first marginal is Lebesgue).
          if (ic.type != "gaussian" && ic.type != "mixture")
            r.fail("upper data from", "expected 1 (no upper data) unless subsection 'Initial "
                                      "condition' has type = gaussian or mixture, got type = " + ic.type);
          // Inside a cell the projection would smear the jump over the cell,
          // and the slices below it would no longer follow the lower data.
          const double cells = m.s_subdivisions * std::ldexp(1., static_cast<int>(p.mesh.global_refinements));
          if (std::abs(ic.upper_from * cells - std::round(ic.upper_from * cells)) > 1e-9)
            r.fail("upper data from", "expected a boundary between cells along s (a multiple of 1/" +
                                        std::to_string(static_cast<long>(cells)) + " here), got " +
                                        r.text("upper data from"));
          ic.upper_mean       = r.vector("upper mean", dim);
          ic.upper_covariance = r.matrix("upper covariance", dim);
          check_covariance(r, "upper covariance", ic.upper_covariance, dim);
        }
      p.mesh.lower_corner.insert(p.mesh.lower_corner.begin(), 0.);
      p.mesh.upper_corner.insert(p.mesh.upper_corner.begin(), 1.);
      p.mesh.subdivisions.insert(p.mesh.subdivisions.begin(), m.s_subdivisions);
    }

    Parameters extract(ParameterHandler &prm, const std::string &name)
    {
      Parameters p;
      p.file      = name;
      p.dimension = prm.get_integer("dimension");
      const unsigned int dim = p.dimension;

      prm.enter_subsection("Mesh");
      {
        Reader r(prm, name, "Mesh");
        p.mesh.domain             = r.text("domain");
        p.mesh.lower_corner       = r.vector("lower corner", dim);
        p.mesh.upper_corner       = r.vector("upper corner", dim);
        p.mesh.global_refinements = prm.get_integer("global refinements");
        for (double s : r.vector("subdivisions", dim))
          {
            if (s < 1 || s != std::floor(s))
              r.fail("subdivisions", "expected positive whole numbers, got " +
                                       std::to_string(s));
            p.mesh.subdivisions.push_back(static_cast<unsigned int>(s));
          }
        for (unsigned int k = 0; k < dim; ++k)
          if (!(p.mesh.lower_corner[k] < p.mesh.upper_corner[k]))
            r.fail("upper corner", "expected every coordinate to exceed the lower corner's");
        p.mesh.file = r.text("file");
        if (p.mesh.domain == "file")
          {
            std::filesystem::path f(p.mesh.file);
            if (f.is_relative())
              f = std::filesystem::path(name).parent_path() / f;
            if (p.mesh.file.empty() || !std::filesystem::is_regular_file(f))
              r.fail("file", "mesh file '" + p.mesh.file + "' does not exist (looked for '" +
                               f.string() + "')");
            p.mesh.file = f.string();
            // parameters.prm in the output folder must point at the same file.
            prm.set("file", std::filesystem::absolute(f).string());
          }
      }
      prm.leave_subsection();

      prm.enter_subsection("Discretization");
      p.discretization.degree             = prm.get_integer("degree");
      p.discretization.positivity_limiter = prm.get_bool("positivity limiter");
      p.discretization.limiter_keeps_moments = prm.get_bool("limiter keeps moments");
      p.discretization.interpolate_face_velocity = prm.get("face velocity") == "interpolated";
      prm.leave_subsection();

      prm.enter_subsection("Attention");
      {
        Reader r(prm, name, "Attention");
        p.attention_type = r.text("type");
        p.attention.dim  = dim;
        p.attention.beta = prm.get_double("beta");
        p.attention.bias = prm.get_double("bias");
        p.attention.Q    = r.matrix("Q", dim);
        p.attention.K    = r.matrix("K", dim);
        p.attention.V    = r.matrix("V", dim);
        p.attention.masked_kernel = r.text("masked kernel");
        if (p.attention_type == "masked" && dim > 2)
          Reader(prm, name, "").fail("dimension", "masked attention supports d = 1 or 2 (the mesh has "
                                                  "d + 1 dimensions: s and the token), got " +
                                                    std::to_string(dim));
        const bool heads_used = p.attention_type == "multihead" ||
                                (p.attention_type == "masked" && p.attention.masked_kernel == "multihead");
        if (heads_used) // like the mixture entries: read when used
          p.attention.heads = read_heads(r, dim);
        p.attention.sinkhorn_epsilon        = prm.get_double("sinkhorn epsilon");
        p.attention.sinkhorn_tolerance      = prm.get_double("sinkhorn tolerance");
        p.attention.sinkhorn_max_iterations = prm.get_integer("sinkhorn maximum iterations");
        const std::string evaluation        = r.text("evaluation");
        p.attention.evaluation =
          evaluation == "direct" ? attention::Parameters::Evaluation::direct :
          evaluation == "fast"   ? attention::Parameters::Evaluation::fast :
                                   attention::Parameters::Evaluation::automatic;
        const auto tolerance = parse_number(r.text("tolerance"));
        if (!tolerance || !(*tolerance > 0.) || !std::isfinite(*tolerance))
          r.fail("tolerance", "expected a positive number, got '" + r.text("tolerance") + "'");
        p.attention.tolerance = *tolerance;
        p.attention.float_exponential = r.text("exponential") == "float";
        try
          {
            attention::create(p.attention_type, p.attention);
          }
        catch (const std::invalid_argument &e)
          {
            throw InputError(name + ": subsection 'Attention': " + e.what());
          }
      }
      prm.leave_subsection();

      prm.enter_subsection("Initial condition");
      {
        Reader r(prm, name, "Initial condition");
        auto  &ic     = p.initial;
        ic.type       = r.text("type");
        ic.projection = r.text("projection");
        if (ic.type == "gaussian")
          {
            ic.mean       = r.vector("mean", dim);
            ic.covariance = r.matrix("covariance", dim);
            check_covariance(r, "covariance", ic.covariance, dim);
          }
        else if (ic.type == "mixture")
          {
            for (const auto &w : dealii::Utilities::split_string_list(r.text("mixture weights"), ','))
              {
                const auto value = parse_number(w);
                if (!value || !(*value > 0))
                  r.fail("mixture weights", "expected positive numbers, got '" + w + "'");
                ic.mixture_weights.push_back(*value);
              }
            const std::size_t n = ic.mixture_weights.size();
            if (n == 0)
              r.fail("mixture weights", "expected at least one weight");
            const Matrix means = r.matrix("mixture means");
            if (means.rows != n || means.cols != dim)
              r.fail("mixture means", "expected one row of " + std::to_string(dim) +
                                        " numbers per component (" + std::to_string(n) +
                                        " x " + std::to_string(dim) + "), got " +
                                        matrix_shape(means));
            for (std::size_t c = 0; c < n; ++c)
              ic.mixture_means.emplace_back(means.data.begin() + c * dim,
                                            means.data.begin() + (c + 1) * dim);
            const auto covs =
              dealii::Utilities::split_string_list(r.text("mixture covariances"), '|');
            if (covs.size() != n)
              r.fail("mixture covariances", "expected " + std::to_string(n) +
                                              " matrices separated by '|', got " +
                                              std::to_string(covs.size()));
            for (const auto &c : covs)
              {
                Matrix m;
                try
                  {
                    m = Matrix::parse(c);
                  }
                catch (const std::invalid_argument &e)
                  {
                    r.fail("mixture covariances", std::string("malformed matrix: ") + e.what());
                  }
                check_covariance(r, "mixture covariances", m, dim);
                ic.mixture_covariances.push_back(m);
              }
          }
        else if (ic.type == "box")
          {
            ic.box_lower = r.vector("box lower corner", dim);
            ic.box_upper = r.vector("box upper corner", dim);
            for (unsigned int k = 0; k < dim; ++k)
              if (!(ic.box_lower[k] < ic.box_upper[k]))
                r.fail("box upper corner", "expected every coordinate to exceed the lower corner's");
          }
        else if (ic.type == "ball")
          {
            ic.ball_center = r.vector("ball center", dim);
            ic.ball_radius = prm.get_double("ball radius");
          }
        else if (ic.type == "expression")
          {
            ic.expression = r.text("expression");
            ic.constants  = r.text("constants");
            if (ic.expression.find_first_not_of(' ') == std::string::npos)
              r.fail("expression", "expected a formula in x (and y, z), got nothing");
          }
      }
      prm.leave_subsection();

      prm.enter_subsection("Masked attention");
      if (p.masked())
        read_masked_attention(Reader(prm, name, "Masked attention"), p);
      prm.leave_subsection();

      prm.enter_subsection("Mesh refinement");
      {
        auto &r              = p.refinement;
        r.adaptive           = prm.get_bool("adaptive");
        r.interval           = prm.get_integer("interval");
        r.indicator          = prm.get("indicator");
        r.strategy           = prm.get("strategy");
        r.refine_fraction    = prm.get_double("refine fraction");
        r.coarsen_fraction   = prm.get_double("coarsen fraction");
        r.refine_threshold   = prm.get_double("refine threshold");
        r.coarsen_threshold  = prm.get_double("coarsen threshold");
        r.minimum_level      = prm.get_integer("minimum level");
        r.maximum_level      = prm.get_integer("maximum level");
        r.maximum_cells      = prm.get_integer("maximum cells");
        r.initial_refinements = prm.get_integer("initial refinements");
        if (r.strategy == "threshold" && !(r.coarsen_threshold < r.refine_threshold))
          Reader(prm, name, "Mesh refinement").fail("coarsen threshold", "expected a value below the refine threshold");
        if (r.refine_fraction + r.coarsen_fraction > 1)
          Reader(prm, name, "Mesh refinement").fail("coarsen fraction", "expected refine fraction + coarsen fraction <= 1");
        if (r.minimum_level > r.maximum_level)
          Reader(prm, name, "Mesh refinement").fail("maximum level", "expected at least the minimum level");
        // Refinement is isotropic: hanging faces along x couple the slices
        // (a coarse face's s-traces are not point values), and coarsening
        // would smear data across s. Per-slice mass and causality need a
        // mesh that is conforming along s.
        if (r.adaptive && p.masked())
          Reader(prm, name, "Mesh refinement")
            .fail("adaptive", "expected false with Attention/type = masked (slice masses and causality "
                              "need a mesh without hanging faces; use global refinements)");
      }
      prm.leave_subsection();

      prm.enter_subsection("Time stepping");
      p.time.end_time          = prm.get_double("end time");
      p.time.cfl               = prm.get_double("cfl");
      p.time.scheme            = prm.get("scheme");
      p.time.maximum_time_step = prm.get_double("maximum time step");
      p.time.negligible_density = prm.get_double("negligible density");
      if (!(p.time.end_time > 0))
        Reader(prm, name, "Time stepping").fail("end time", "expected a positive time");
      if (!(p.time.cfl > 0))
        Reader(prm, name, "Time stepping").fail("cfl", "expected a Courant number in (0, 1]");
      prm.leave_subsection();

      prm.enter_subsection("Output");
      p.output.directory = prm.get("directory");
      p.output.interval  = prm.get_double("interval");
      p.output.write_vtu = prm.get_bool("write vtu");
      if (p.output.directory.empty())
        Reader(prm, name, "Output").fail("directory", "expected a folder name");
      prm.leave_subsection();

      prm.enter_subsection("Particles");
      {
        Reader r(prm, name, "Particles");
        auto  &q             = p.particles;
        q.number_of_tokens   = prm.get_integer("number of tokens");
        q.seed               = prm.get_integer("seed");
        q.sampling           = prm.get("sampling");
        q.integrator         = prm.get("integrator");
        q.time_step          = prm.get_double("time step");
        q.directory          = prm.get("directory");
        q.import_file        = dealii::Utilities::trim(prm.get("import file"));
        q.import_time_scale  = prm.get_double("import time scale");
        if (!(q.time_step > 0))
          r.fail("time step", "expected a positive time step");
        if (!(q.import_time_scale > 0))
          r.fail("import time scale", "expected a positive factor");
        if (q.directory.empty())
          q.directory = (std::filesystem::path(p.output.directory) / "particles").string();
        // Like the mesh file: relative to the parameter file's folder.
        if (!q.import_file.empty() && std::filesystem::path(q.import_file).is_relative())
          q.import_file = (std::filesystem::path(name).parent_path() / q.import_file).string();
      }
      prm.leave_subsection();
      return p;
    }
  } // namespace

  void declare_parameters(ParameterHandler &prm)
  {
    prm.declare_entry("dimension", "2", Patterns::Integer(1, 3),
                      "Space dimension d of the token space R^d (1, 2 or 3). Read first: "
                      "every vector below has d entries and every matrix is checked against d.");

    prm.enter_subsection("Mesh");
    prm.declare_entry("domain", "box", Patterns::Selection("box|file"),
                      "box: an axis-parallel box from 'lower corner' to 'upper corner' split "
                      "into 'subdivisions' cells per direction; file: a gmsh .msh file.");
    prm.declare_entry("lower corner", "-8", Patterns::Anything(),
                      "Lower corner of the box: d numbers separated by ',' (one number is "
                      "used for every direction).");
    prm.declare_entry("upper corner", "8", Patterns::Anything(),
                      "Upper corner of the box (as 'lower corner').");
    prm.declare_entry("subdivisions", "1", Patterns::Anything(),
                      "Cells per direction of the coarse box mesh before global refinement: "
                      "d whole numbers (one number is used for every direction).");
    prm.declare_entry("global refinements", "5", Patterns::Integer(0, 20),
                      "Uniform refinements of the coarse mesh (each halves the cell size).");
    prm.declare_entry("file", "", Patterns::Anything(),
                      "gmsh mesh file for domain = file, relative to the parameter file's folder.");
    prm.leave_subsection();

    prm.enter_subsection("Discretization");
    prm.declare_entry("degree", "2", Patterns::Integer(1, 4),
                      "Polynomial degree p of the discontinuous Galerkin space (FE_DGQ, nodes at "
                      "the Gauss points, so the mass matrix is diagonal).");
    prm.declare_entry("positivity limiter", "true", Patterns::Bool(),
                      "Zhang-Shu limiter: after every stage, scale each cell's polynomial towards "
                      "its mean so that the density is non-negative at all check points "
                      "(Gauss nodes, the Gauss x Gauss-Lobatto point sets and the subface points of "
                      "hanging faces). Keeps cell means, "
                      "hence mass.");
    prm.declare_entry("limiter keeps moments", "true", Patterns::Bool(),
                      "After the cell-wise limiter, restore the global mean and covariance it "
                      "changed: the density of the cells it did not touch becomes rho (1 + p - pbar_K), "
                      "p quadratic, solved from the moment deficit, pbar_K its rho-weighted mean over the "
                      "cell (every cell "
                      "keeps its mass), and stays non-negative at their check points. Scaling a cell "
                      "towards its mean moves mass within it at every stage: at two cells per standard "
                      "deviation (T6 on 32 x 32 Q2 cells) the covariance error grew by 6e-4 per unit "
                      "time with the cell-wise limiter alone and by about 1e-5 without any limiter (the "
                      "DG moment equations are exact for an affine velocity). Only cells with a mean of at "
                      "least 1e-4 of the largest take part, and the correction changes the "
                      "density by at most 5 % at any node per call (more would trade its shape for its moments: Q1 at "
                      "h ~ sigma would need 30 %); larger deficits are restored in part. Not with masked "
                      "attention (slices keep their own masses).");
    prm.declare_entry("face velocity", "evaluated", Patterns::Selection("evaluated|interpolated"),
                      "Velocity at the face quadrature points of the upwind flux. evaluated: the "
                      "attention sum at every face point (about as many targets as there are nodes, "
                      "so half the cost of a stage). interpolated: the trace of the canonical cell's "
                      "nodal velocity (degree p), exact for affine fields (Gaussian data) and within "
                      "O(h^(p+1)) otherwise; faces between MPI ranks are still evaluated by "
                      "both ranks (identical with direct summation; within the tolerance with "
                      "fast summation, whose trees differ per rank).");
    prm.leave_subsection();

    prm.enter_subsection("Attention");
    prm.declare_entry("type", "softmax", Patterns::Selection(attention::variant_names()),
                      "Attention variant; each is documented in solver/attention/<name>.cc. "
                      "softmax: X(x) = V int exp(beta <Qx,Ky>) y rho(y) dy / "
                      "int exp(beta <Qx,Ky>) rho(y) dy.");
    prm.declare_entry("beta", "1", Patterns::Double(), "Inverse temperature beta.");
    prm.declare_entry("bias", "0", Patterns::Double(),
                      "Bias b of sigmoid attention, sigma(beta <Qx, Ky> + b) (unused by the others).");
    prm.declare_entry("Q", "", Patterns::Anything(),
                      "Query matrix, k x d with any k >= 1, rows separated by ';' (e.g. "
                      "'1, 0; 0, 1'). Empty: the d x d identity.");
    prm.declare_entry("K", "", Patterns::Anything(),
                      "Key matrix, same shape as Q. Empty: the identity.");
    prm.declare_entry("V", "", Patterns::Anything(),
                      "Value matrix, d x d. Empty: the identity.");
    prm.declare_entry("heads", "1", Patterns::Integer(1),
                      "multihead: number of heads H. Per head h, X += C_h * (softmax mean with "
                      "beta_h <Q_h x, K_h y>); Q, K, V and beta are then not used.");
    prm.declare_entry("head Q", "", Patterns::Anything(),
                      "multihead: H query matrices (k_h x d each, rows separated by ';') "
                      "separated by '|', e.g. '1, 0 | 0, 1'; one matrix stands for every head; "
                      "empty: the identity.");
    prm.declare_entry("head K", "", Patterns::Anything(),
                      "multihead: H key matrices separated by '|', each of its head's Q shape.");
    prm.declare_entry("head C", "", Patterns::Anything(),
                      "multihead: H output-value matrices C_h = W_h^T V_h (d x d) separated by '|'.");
    prm.declare_entry("head beta", "1", Patterns::Anything(),
                      "multihead: H inverse temperatures separated by '|' (one stands for all).");
    prm.declare_entry("sinkhorn epsilon", "1", Patterns::Double(),
                      "sinkhorn: temperature epsilon > 0 of the plan exp((beta <Qx,Ky> + f(x) + "
                      "g(y)) / epsilon).");
    prm.declare_entry("sinkhorn tolerance", "1e-12", Patterns::Double(),
                      "sinkhorn: iterate until both marginals of the plan are within this of 1 "
                      "(max norm) at every evaluation.");
    prm.declare_entry("evaluation", "auto", Patterns::Selection("direct|fast|auto"),
                      "How softmax, multihead, l2 and unnormalized (and sinkhorn's velocity once "
                      "its potentials are found) sum over the sources (the other types are always "
                      "direct). direct: every target-source pair, exact to rounding. "
                      "fast: Chebyshev interpolation in score space a = beta K^T Q x on adaptive "
                      "boxes (solver/attention/fast_summation.h), cost ~ targets + sources, with "
                      "max |error| <= tolerance * max |velocity|. auto: fast when there are at "
                      "least " + std::to_string(attention::fast_summation_min_targets) +
                        " targets and " + std::to_string(attention::fast_summation_min_sources) +
                        " sources (nodes with positive density) and tolerance >= 1e-13, "
                        "falling back to direct when the interpolation costs more than a "
                        "quarter of the direct sum; else direct.");
    prm.declare_entry("tolerance", "1e-10", Patterns::Anything(),
                      "Relative accuracy of evaluation = fast (and auto when it picks fast): "
                      "a positive number, at least ~1e-13 (the rounding of the score vectors).");
    prm.declare_entry("exponential", "double", Patterns::Selection("double|float"),
                      "Precision of the exponentials in the direct sums of softmax, multihead, "
                      "l2 and unnormalized (and sinkhorn's velocity). double: relative error "
                      "~1e-15. float: exp in float (16 lanes per AVX-512 register) with double "
                      "accumulation, relative error ~1e-7, faster (see tests/benchmarks/"
                      "bench_attention.cc). The fast summation's exact evaluations always use "
                      "double (they must meet the tolerance).");
    prm.declare_entry("sinkhorn maximum iterations", "1000", Patterns::Integer(1),
                      "sinkhorn: iterations allowed per evaluation; not converging is a physical "
                      "failure (exit code 3).");
    prm.declare_entry("masked kernel", "softmax", Patterns::Anything(),
                      "masked: the variant each token applies to the tokens at or before its "
                      "position s (softmax, l2, multihead, unnormalized or sigmoid, with their "
                      "entries above); see subsection 'Masked attention'.");
    prm.leave_subsection();

    prm.enter_subsection("Masked attention");
    prm.declare_entry("s subdivisions", "2", Patterns::Integer(1),
                      "type = masked: the density lives on (s, x) in [0, 1] x (the Mesh box), s the "
                      "position in the sequence and the FIRST coordinate of the mesh (ParaView's X "
                      "axis), x the token (d = 1 or 2, so the mesh is 2D or 3D). Coarse cells along "
                      "s before 'global refinements' (which refine s too). s is a frozen label: "
                      "mass moves only in x.");
    prm.declare_entry("slices", "0.25, 0.75", Patterns::Anything(),
                      "type = masked: positions s in [0, 1] whose slices rho(s, .) get statistics.csv "
                      "columns slice<k>_* (k counts from 0): s, mass, mean and covariance in x and, "
                      "when the data at and below s is one Gaussian with an exact reference, the "
                      "reference moments and errors (physics.md §2.7: exact there). A slice on a cell "
                      "boundary is taken from the cell above (s = 1: below).");
    prm.declare_entry("upper data from", "1", Patterns::Double(0, 1),
                      "type = masked: from this s on, the initial data is N(upper mean, upper "
                      "covariance); below it, subsection 'Initial condition' (then gaussian or "
                      "mixture); it must be a boundary between cells along s. 1: the Initial "
                      "condition everywhere (its expression may use s).");
    prm.declare_entry("upper mean", "0", Patterns::Anything(),
                      "type = masked: mean of the upper data (d numbers).");
    prm.declare_entry("upper covariance", "", Patterns::Anything(),
                      "type = masked: covariance of the upper data (d x d, symmetric positive "
                      "definite). Empty: the identity.");
    prm.leave_subsection();

    prm.enter_subsection("Initial condition");
    prm.declare_entry("type", "gaussian",
                      Patterns::Selection("gaussian|mixture|box|ball|expression"),
                      "gaussian: N(mean, covariance); mixture: sum of Gaussians; box / ball: "
                      "uniform density; expression: any formula. Always normalised to mass 1.");
    prm.declare_entry("projection", "l2", Patterns::Selection("l2|interpolation"),
                      "l2: L2 projection onto the DG space (exact moments up to degree p); "
                      "interpolation: values at the Gauss nodes.");
    prm.declare_entry("mean", "0", Patterns::Anything(), "Gaussian mean: d numbers.");
    prm.declare_entry("covariance", "", Patterns::Anything(),
                      "Gaussian covariance: symmetric positive definite d x d matrix, rows "
                      "separated by ';'. Empty: the identity.");
    prm.declare_entry("mixture weights", "1", Patterns::Anything(),
                      "Positive weights of the mixture components, separated by ','.");
    prm.declare_entry("mixture means", "0", Patterns::Anything(),
                      "One row of d numbers per component, rows separated by ';'.");
    prm.declare_entry("mixture covariances", "1", Patterns::Anything(),
                      "One d x d matrix per component, matrices separated by '|'.");
    prm.declare_entry("box lower corner", "-1", Patterns::Anything(),
                      "Uniform box density: lower corner (d numbers).");
    prm.declare_entry("box upper corner", "1", Patterns::Anything(),
                      "Uniform box density: upper corner (d numbers).");
    prm.declare_entry("ball center", "0", Patterns::Anything(), "Uniform ball density: center.");
    prm.declare_entry("ball radius", "1", Patterns::Double(0), "Uniform ball density: radius.");
    prm.declare_entry("expression", "", Patterns::Anything(),
                      "Density formula in x (1D), x,y (2D), x,y,z (3D) for type = expression "
                      "(deal.II FunctionParser syntax, e.g. 'exp(-x^2-y^2)*(1+0.5*sin(3*x))'). "
                      "Masked attention: in s,x (d = 1) or s,x,y (d = 2); every slice should be a "
                      "probability density in x (only the total mass is normalised).");
    prm.declare_entry("constants", "", Patterns::Anything(),
                      "Constants used in 'expression', e.g. 'a=1, b=2'.");
    prm.leave_subsection();

    prm.enter_subsection("Mesh refinement");
    prm.declare_entry("adaptive", "false", Patterns::Bool(),
                      "Refine and coarsen the mesh during the run, following the density. Mass is "
                      "conserved exactly: refinement copies the polynomial to the children, coarsening "
                      "is the L2 projection; the positivity limiter is re-applied after every transfer.");
    prm.declare_entry("interval", "5", Patterns::Integer(1), "Adapt every this many time steps.");
    prm.declare_entry("indicator", "combined", Patterns::Selection("jump|mass|combined|attention"),
                      "jump: sqrt(h_K * sum over the faces of K of the integral of the squared density "
                      "jump), a Kelly-type measure of under-resolution; mass: the cell's mass; "
                      "combined: the sum of both, each divided by its maximum; attention: jump times "
                      "(1 + the attention the cell receives per unit of its mass). Softmax-type "
                      "attention tilts the density by exp(<Qx, Ky>), so targets far out weight the "
                      "tail of the density exponentially; a coarse tail cell whose density is right in "
                      "absolute but wrong in relative terms then corrupts their velocity. 'attention' "
                      "refines such cells (computed over cell centres, O(cells^2) per adaptation); "
                      "for sigmoid, multihead and sinkhorn attention it equals jump.");
    prm.declare_entry("strategy", "fraction", Patterns::Selection("fraction|threshold"),
                      "fraction: refine/coarsen the given fractions of the cells with the largest/smallest "
                      "indicator at every adaptation (the mesh size stays about constant); threshold: "
                      "refine every cell whose indicator exceeds 'refine threshold', coarsen those below "
                      "'coarsen threshold' (the mesh follows an accuracy target; the gap between the two "
                      "thresholds keeps cells from being refined and coarsened back and forth). With "
                      "threshold, the initial refinement cycles stop as soon as no cell is flagged.");
    prm.declare_entry("refine fraction", "0.3", Patterns::Double(0, 1),
                      "strategy = fraction: fraction of the cells with the largest indicator that are refined.");
    prm.declare_entry("coarsen fraction", "0.3", Patterns::Double(0, 1),
                      "strategy = fraction: fraction of the cells with the smallest indicator that are coarsened.");
    prm.declare_entry("refine threshold", "1e-6", Patterns::Double(0),
                      "strategy = threshold: cells whose indicator exceeds this are refined. In the "
                      "indicator's units: jump ~ the cell's L2 error of the density (total mass 1), "
                      "mass = the cell's mass, combined in [0, 2] (relative to the maxima).");
    prm.declare_entry("coarsen threshold", "1e-8", Patterns::Double(0),
                      "strategy = threshold: cells whose indicator is below this are coarsened (all "
                      "children of a parent must agree). Must be below the refine threshold.");
    prm.declare_entry("minimum level", "0", Patterns::Integer(0),
                      "No cell is coarsened below this level (the coarse mesh is level 0).");
    prm.declare_entry("maximum level", "10", Patterns::Integer(0),
                      "No cell is refined beyond this level.");
    prm.declare_entry("maximum cells", "0", Patterns::Integer(0),
                      "Approximate cap on the number of cells (0: none).");
    prm.declare_entry("initial refinements", "0", Patterns::Integer(0, 20),
                      "Adaptive refinement cycles of the initial data before the run (each re-projects "
                      "the initial density on the new mesh).");
    prm.leave_subsection();

    prm.enter_subsection("Time stepping");
    prm.declare_entry("end time", "1", Patterns::Double(), "Final time T (depth), > 0.");
    prm.declare_entry("cfl", "0.5", Patterns::Double(0, 1),
                      "Courant number C: dt = C / ((2p+1) max_K sum_k max|X_k|/h_k) over all cells "
                      "K (h_k: cell extent along k). Zhang-Shu positivity of a forward-Euler stage "
                      "needs C / (2p+1) <= the first Gauss-Lobatto weight of the check points: C <= "
                      "1.5, 0.83, 1.17, 0.75 for p = 1, 2, 3, 4 (SSP stages keep the bound). The "
                      "velocity changes within a step, so steps whose stages still produce a negative "
                      "cell mean are repeated with half the step.");
    prm.declare_entry("scheme", "ssp-rk3", Patterns::Selection("ssp-rk3|ssp-rk2|forward-euler"),
                      "Explicit strong-stability-preserving Runge-Kutta scheme.");
    prm.declare_entry("maximum time step", "0", Patterns::Double(0),
                      "Upper bound on dt (0: none), e.g. to study the time error.");
    prm.declare_entry("negligible density", "1e-14", Patterns::Double(0, 1),
                      "Points whose density is below this fraction of the largest nodal density carry "
                      "no mass that matters; their speed is capped so that it never sets the time step "
                      "(0: off). Softmax-type attention tilts the density by exp(<Qx, Ky>), so targets "
                      "far from the mass read the density's tail, where it is numerical noise in relative "
                      "terms, and can get speeds many times those where the mass is (T8: 6.7 instead of "
                      "about 1). Capping keeps mass exact (face velocities stay single-valued).");
    prm.leave_subsection();

    prm.enter_subsection("Output");
    prm.declare_entry("directory", "output/default", Patterns::Anything(),
                      "Output folder (created if missing): solution_*.vtu/.pvtu, solution.pvd, "
                      "statistics.csv and parameters.prm.");
    prm.declare_entry("interval", "0.1", Patterns::Double(0),
                      "Time between two ParaView outputs (0: only the initial and final state).");
    prm.declare_entry("write vtu", "true", Patterns::Bool(),
                      "Write ParaView files (statistics.csv is always written).");
    prm.leave_subsection();

    prm.enter_subsection("Particles");
    prm.declare_entry("number of tokens", "1000", Patterns::Integer(1),
                      "tpde particles: number N of tokens, sampled from the initial condition; each "
                      "carries the weight 1/N and moves with the same attention kernel as the grid.");
    prm.declare_entry("seed", "1", Patterns::Integer(0), "Seed of the token sampling (same seed, same tokens).");
    prm.declare_entry("sampling", "random", Patterns::Selection("random|quasi-random"),
                      "random: i.i.d. tokens; quasi-random: a Halton point set rotated by the seed. "
                      "Gaussians and mixtures use the exact transform, box is affine, ball and "
                      "expression use rejection (expression: within the Mesh box corners).");
    prm.declare_entry("integrator", "rk4", Patterns::Selection("rk4|ssp-rk3"),
                      "Time integrator of the token ODE: classical Runge-Kutta 4 or SSP-RK3.");
    prm.declare_entry("time step", "0.01", Patterns::Double(0),
                      "Largest time step; each output interval is split into equal steps no longer than this.");
    prm.declare_entry("directory", "", Patterns::Anything(),
                      "Output folder of the particle run (particles_*.vtp, particles.pvd, statistics.csv, "
                      "parameters.prm). Empty: the folder 'particles' inside Output/directory.");
    prm.declare_entry("import file", "", Patterns::Anything(),
                      "CSV token positions from another code, written out instead of a run (relative to "
                      "the parameter file's folder): columns x, y, z (or x0, x1, x2) and optionally time; "
                      "one file with a time column, or one file per time with '*' standing for the number "
                      "in the file names (layer_*.csv), which is then the time.");
    prm.declare_entry("import time scale", "1", Patterns::Double(0),
                      "Imported times (time column or file number) are multiplied by this factor.");
    prm.leave_subsection();
  }

  Parameters parse_parameters(const std::string              &text,
                              const std::string              &name,
                              const std::vector<std::string> &overrides)
  {
    ParameterHandler prm;
    parse_into_handler(prm, text, name, overrides);
    try
      {
        Parameters         p = extract(prm, name);
        std::ostringstream out;
        prm.print_parameters(out, ParameterHandler::ShortPRM);
        p.as_prm = out.str();
        return p;
      }
    catch (const dealii::ExceptionBase &e)
      {
        throw InputError(name + ": " + message_of(e));
      }
  }

  namespace
  {
    std::string read_text(const std::string &file)
    {
      std::ifstream in(file);
      if (!in)
        throw InputError(file + ": cannot open the parameter file");
      std::stringstream s;
      s << in.rdbuf();
      return s.str();
    }
  } // namespace

  Parameters read_parameters(const std::string &file, const std::vector<std::string> &overrides)
  {
    return parse_parameters(read_text(file), file, overrides);
  }

  void check_output_directory(const Parameters &p)
  {
    namespace fs = std::filesystem;
    const fs::path dir(p.output.directory);
    const auto fail = [&](const std::string &why) {
      throw InputError(p.file + ": subsection 'Output', entry 'directory': '" +
                       p.output.directory + "' " + why);
    };
    std::error_code ec;
    if (fs::exists(dir, ec))
      {
        if (!fs::is_directory(dir, ec))
          fail("exists and is not a folder");
        if (access(dir.c_str(), W_OK | X_OK) != 0)
          fail("is not writable");
        return;
      }
    // The folder will be created: its nearest existing ancestor must be a writable folder.
    fs::path ancestor = fs::absolute(dir, ec).parent_path();
    while (!ancestor.empty() && !fs::exists(ancestor, ec))
      ancestor = ancestor.parent_path();
    if (!fs::is_directory(ancestor, ec))
      fail("cannot be created: '" + ancestor.string() + "' is not a folder");
    if (access(ancestor.c_str(), W_OK | X_OK) != 0)
      fail("cannot be created: '" + ancestor.string() + "' is not writable");
  }
} // namespace tpde
