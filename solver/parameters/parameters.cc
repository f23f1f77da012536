#include "parameters/parameters.h"

#include "attention/attention_entries.h"
#include "attention/feed_forward.h"
#include "attention/weights_file.h"
#include "common/input_file.h"
#include "initial/gaussian_mixture.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/utilities.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
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

    std::unique_ptr<Patterns::PatternBase> to_pattern(const EntryPattern &p)
    {
      using Kind = EntryPattern::Kind;
      switch (p.kind)
        {
          case Kind::integer:
            return std::make_unique<Patterns::Integer>(static_cast<int>(p.lower), static_cast<int>(p.upper));
          case Kind::real:
            return std::make_unique<Patterns::Double>(p.lower, p.upper);
          case Kind::boolean:
            return std::make_unique<Patterns::Bool>();
          case Kind::selection:
            return std::make_unique<Patterns::Selection>(p.options);
          default:
            return std::make_unique<Patterns::Anything>();
        }
    }

    /// One subsection and the component that owns it.
    struct Section
    {
      std::string                              name;
      std::function<void(EntryDeclarations &)> declare;
      /// Entries that may hold one value per layer, separated by '|' (their readers check the patterns).
      std::function<bool(const std::string &)> per_layer = {};
    };

    void masked_attention_entries(EntryDeclarations &entries);

    const std::vector<Section> &sections()
    {
      static const std::vector<Section> all = {
        {"Mesh", &MeshParameters::declare},
        {"Discretization", &DiscretizationParameters::declare},
        {"Attention", &attention::declare_entries, &attention::per_layer},
        {"Layers", &attention::declare_layer_entries},
        {"Feed-forward", &attention::declare_feed_forward_entries, &attention::feed_forward_per_layer},
        {"Masked attention", &masked_attention_entries},
        {"Initial condition", &InitialConditionParameters::declare},
        {"Mesh refinement", &MeshRefinementParameters::declare},
        {"Time stepping", &TimeSteppingParameters::declare},
        {"Output", &OutputParameters::declare},
        {"Particles", &ParticleParameters::declare},
        {"Checkpoint", &CheckpointParameters::declare},
        {"Noise", &NoiseParameters::declare},
      };
      return all;
    }

    /// Runs `read` on a reader of subsection `name` (entered for the call).
    template <typename Read>
    auto read_section(ParameterHandler &prm, const std::string &file, const std::string &name, const Read &read)
    {
      prm.enter_subsection(name);
      const EntryReader reader(
        file, name, [&prm](const std::string &entry) { return prm.get(entry); },
        [&prm](const std::string &entry, const std::string &value) { prm.set(entry, value); });
      struct Leave
      {
        ParameterHandler &prm;
        ~Leave() { prm.leave_subsection(); }
      } leave{prm};
      return read(reader);
    }

    void apply_override(ParameterHandler &prm, const std::string &argument)
    {
      const std::string assignment = printable(argument); // for messages
      const auto        eq         = argument.find('=');
      if (eq == std::string::npos)
        throw InputError("command line: --set '" + assignment +
                         "': expected 'Subsection/entry=value'");
      const std::string path  = dealii::Utilities::trim(argument.substr(0, eq));
      const std::string value = dealii::Utilities::trim(argument.substr(eq + 1));
      std::vector<std::string> parts;
      std::stringstream        s(path);
      std::string              part;
      while (std::getline(s, part, '/'))
        parts.push_back(dealii::Utilities::trim(part));
      // "=5" has no entry at all (parts.back() of nothing crashed), "Mesh//x=1" an empty subsection.
      if (parts.empty() || path.back() == '/' ||
          std::any_of(parts.begin(), parts.end(), [](const std::string &p) { return p.empty(); }))
        throw InputError("command line: --set '" + assignment + "': expected 'Subsection/entry=value' (an empty "
                         "subsection or entry name)");
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

    /// `skip_undefined`: entries this build does not declare are ignored
    /// (parameters stored by an older build), not an error.
    void parse_into_handler(ParameterHandler               &prm,
                            const std::string              &text,
                            const std::string              &name,
                            const std::vector<std::string> &overrides,
                            bool                            skip_undefined = false)
    {
      declare_parameters(prm);
      std::istringstream in(text);
      try
        {
          prm.parse_input(in, name, "", skip_undefined);
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

    void masked_attention_entries(EntryDeclarations &entries)
    {
      entries.declare("s subdivisions", "2", EntryPattern::integer(1),
                      "type = masked: the density lives on (s, x) in [0, 1] x (the Mesh box), s the position in the "
                      "sequence and the FIRST coordinate of the mesh (ParaView's X axis), x the token (d = 1 or 2, so "
                      "the mesh is 2D or 3D). Coarse cells along s before 'global refinements' (which refine s too). "
                      "s is a frozen label: mass moves only in x. With Mesh/domain = sphere and dimension = 2 the "
                      "token is on the circle: the mesh is (s, theta) in [0, 1] x [0, 2 pi), theta periodic (the "
                      "Mesh subdivisions around the circle, the kernel the circle's Fourier sums of 'masked "
                      "kernel'), and the densities are per unit s and arc length.");
      entries.declare("slices", "0.25, 0.75", EntryPattern::anything(),
                      "type = masked: positions s in [0, 1] whose slices rho(s, .) get statistics.csv columns "
                      "slice<k>_* (k counts from 0): s, mass, mean and covariance in x and, when the data at and "
                      "below s is one Gaussian with an exact reference, the reference moments and errors (physics.md "
                      "§2.7: exact there). A slice on a cell boundary is taken from the cell above (s = 1: below). On "
                      "the circle the moments are those of the ambient point (cos theta, sin theta), and "
                      "slice<k>_mode_1 .. slice<k>_mode_L (L = Output/modes) are |int e^{i l theta} rho(s, theta) "
                      "dtheta|, the Fourier amplitudes of the slice (mass 1).");
      entries.declare("positional decay", "0", EntryPattern::real(),
                      "type = masked: lambda >= 0; the token at s attends to the tokens at s' <= s with the weight "
                      "lambda e^{-lambda (s - s')} / (1 - e^{-lambda s}) (an ALiBi-type decay, physics.md §4.3). 0: the "
                      "uniform weight 1/s.");
      entries.declare("upper data from", "1", EntryPattern::real(0, 1),
                      "type = masked: from this s on, the initial data is N(upper mean, upper covariance); below it, "
                      "subsection 'Initial condition' (then gaussian or mixture); it must be a boundary between "
                      "cells along s. 1: the Initial condition everywhere (its expression may use s).");
      entries.declare("upper mean", "0", EntryPattern::anything(),
                      "type = masked: mean of the upper data (d numbers).");
      entries.declare("upper covariance", "", EntryPattern::anything(),
                      "type = masked: covariance of the upper data (d x d, symmetric positive definite). Empty: the "
                      "identity.");
    }

    /// `subsection Masked attention` and the checks of the other entries
    /// that masked attention restricts; then prepends the s axis [0, 1] to
    /// the mesh (the first coordinate of every point).
    void read_masked_attention(const EntryReader &r, Parameters &p)
    {
      const unsigned int dim = p.dimension; // <= 2, checked with the attention type
      if (p.mesh.domain == MeshParameters::Domain::file)
        EntryReader(r.file(), "Mesh", {}).fail("domain", "masked attention needs domain = box or sphere (the s "
                                                         "axis [0, 1] is added to the box or the circle's angle)");
      auto &m          = p.masked_attention;
      m.s_subdivisions = r.integer("s subdivisions");
      for (const auto &item : r.items("slices", ','))
        {
          const auto s = parse_number(item);
          if (!s || !(*s >= 0. && *s <= 1.))
            r.fail("slices", "expected positions s in [0, 1] separated by ',', got '" + item + "'");
          m.slices.push_back(*s);
        }
      m.positional_decay = r.real("positional decay");
      if (!(m.positional_decay >= 0. && std::isfinite(m.positional_decay)))
        r.fail("positional decay", "expected a number >= 0, got " + r.text("positional decay"));
      for (attention::Parameters &layer : p.layers.attention)
        layer.positional_decay = m.positional_decay;
      p.attention.positional_decay = m.positional_decay;
      auto &ic      = p.initial;
      ic.upper_from = r.real("upper data from");
      if (!(ic.upper_from > 0.))
        r.fail("upper data from", "expected a position s in (0, 1], got " + r.text("upper data from"));
      if (ic.upper_from < 1. && p.mesh.on_sphere())
        r.fail("upper data from", "expected 1 on the circle (upper data needs type = gaussian or mixture in a "
                                  "box), got " + r.text("upper data from"));
      if (ic.upper_from < 1.)
        {
          // Both parts must be probability densities in x, so that every
          // slice carries the same mass (the first marginal is Lebesgue).
          if (!ic.density->with_unit_mass())
            r.fail("upper data from", "expected 1 (no upper data) unless subsection 'Initial condition' has "
                                      "type = gaussian or mixture, got type = " + ic.type);
          // Inside a cell the projection would smear the jump over the cell,
          // and the slices below it would no longer follow the lower data.
          const double cells = m.s_subdivisions * std::ldexp(1., static_cast<int>(p.mesh.global_refinements));
          if (std::abs(ic.upper_from * cells - std::round(ic.upper_from * cells)) > 1e-9)
            r.fail("upper data from", "expected a boundary between cells along s (a multiple of 1/" +
                                        std::to_string(static_cast<long>(cells)) + " here), got " +
                                        r.text("upper data from"));
          const auto   mean       = r.vector("upper mean", dim);
          const Matrix covariance = r.covariance("upper covariance", dim);
          ic.upper = std::make_shared<GaussianMixture>(
            std::vector<GaussianMixture::Component>{{1., reference::GaussianState{mean, covariance}}});
        }
      p.mesh.lower_corner.insert(p.mesh.lower_corner.begin(), 0.);
      p.mesh.upper_corner.insert(p.mesh.upper_corner.begin(), 1.);
      p.mesh.subdivisions.insert(p.mesh.subdivisions.begin(), m.s_subdivisions);
    }

    /// `subsection Feed-forward` into p.layers, for the token space of the
    /// Attention read before: blocks live in R^d (not on the circle's chart,
    /// not at masked attention's frozen positions).
    void read_feed_forward_section(const EntryReader &r, Parameters &p)
    {
      auto &layers        = p.layers;
      layers.feed_forward = attention::read_feed_forward(r, p.dimension, layers);
      if (layers.feed_forward.blocks.empty())
        return;
      if (p.mesh.on_sphere() || p.masked())
        r.fail("type", std::string("expected none with ") +
                         (p.masked() ? "Attention/type = masked" : "Mesh/domain = sphere") +
                         " (feed-forward blocks act on tokens in R^d), got " + r.trimmed("type"));
      if (layers.feed_forward.composition != attention::Composition::split)
        return;
      if (!(layers.duration > 0. && std::isfinite(layers.duration)))
        EntryReader(r.file(), "Layers", {}).fail("duration", "expected a positive duration of each layer with "
                                                             "Feed-forward/composition = split (the halves of a "
                                                             "layer), got " + std::to_string(layers.duration));
      layers.phases = 2;
    }

    /// `explicit_entries`: "Subsection/entry" of every entry the file or an override sets (a weights file
    /// may set none of them).
    Parameters extract(ParameterHandler &prm, const std::string &name, const std::set<std::string> &explicit_entries)
    {
      Parameters p;
      p.file                 = name;
      p.dimension            = prm.get_integer("dimension");
      const unsigned int dim = p.dimension;

      p.mesh = read_section(prm, name, "Mesh", [&](const EntryReader &r) { return MeshParameters::read(r, dim); });
      p.discretization = read_section(prm, name, "Discretization", &DiscretizationParameters::read);
      const attention::Weights weights = read_section(prm, name, "Layers", [&](const EntryReader &r) {
        static_cast<attention::LayerTimes &>(p.layers) = attention::read_layer_times(r);
        return attention::read_layer_weights(r, dim, explicit_entries, p.layers);
      });
      read_section(prm, name, "Attention", [&](const EntryReader &entries) {
        const EntryReader r = attention::with_weights(entries, weights, explicit_entries);
        p.attention_type = r.text("type");
        if (p.masked() && p.mesh.on_sphere() && dim != 2)
          r.fail("type", "expected a type other than masked with Mesh/domain = sphere and dimension = " + std::to_string(dim) +
                           " (masked attention on the sphere needs dimension = 2, the circle: the mesh is (s, "
                           "theta))");
        if (p.masked() && dim > 2)
          EntryReader(name, "", {}).fail("dimension", "masked attention supports d = 1 or 2 (the mesh has d + 1 "
                                                      "dimensions: s and the token), got " + std::to_string(dim));
        try
          {
            p.layers.attention = attention::read_layered_entries(r, dim, p.attention_type, p.layers);
          }
        catch (const InputError &e)
          {
            // The values may come from the weights file: say so.
            throw InputError(std::string(e.what()) +
                             (weights.entries.empty() ? "" : " (with the values of the weights file " + weights.file + ")"));
          }
        p.attention        = p.layers.attention.front();
        return 0;
      });
      read_section(prm, name, "Feed-forward", [&](const EntryReader &entries) {
        read_feed_forward_section(attention::with_weights(entries, weights, explicit_entries), p);
        return 0;
      });
      p.initial = read_section(prm, name, "Initial condition", [&](const EntryReader &r) {
        InitialContext context{dim, p.masked()};
        context.sphere = p.mesh.on_sphere();
        return InitialConditionParameters::read(r, context);
      });
      if (p.masked())
        read_section(prm, name, "Masked attention", [&](const EntryReader &r) {
          read_masked_attention(r, p);
          return 0;
        });
      p.refinement = read_section(prm, name, "Mesh refinement", [&](const EntryReader &r) {
        RefinementContext context{MeshParameters::chart_dimension(dim, p.mesh.on_sphere()),
                                  p.mesh.global_refinements, {}};
        if (p.on_surface())
          // S^2: the cube's faces count as boxes of 2 cells a side, so the automatic maximum
          // level is 4 (16 cells along each cube edge, 1536 in all): the Poisson kernel of
          // sphere-poisson.prm is resolved to 1e-9 at level 3, and level 5 cost 4x per level.
          context.subdivisions = {2, 2};
        else if (p.mesh.domain != MeshParameters::Domain::file)
          context.subdivisions = p.mesh.subdivisions;
        return MeshRefinementParameters::read(r, context);
      });
      // Refinement is isotropic: hanging faces along x couple the slices
      // (a coarse face's s-traces are not point values), and coarsening
      // would smear data across s. Per-slice mass and causality need a
      // mesh that is conforming along s.
      if (p.refinement.adaptive && p.masked())
        EntryReader(name, "Mesh refinement", {})
          .fail("adaptive", "expected false with Attention/type = masked (slice masses and causality need a mesh "
                            "without hanging faces; use global refinements)");
      p.time   = read_section(prm, name, "Time stepping", &TimeSteppingParameters::read);
      p.output = read_section(prm, name, "Output", &OutputParameters::read);
      p.particles = read_section(prm, name, "Particles", [&](const EntryReader &r) {
        return ParticleParameters::read(r, p.output.directory);
      });
      p.checkpoint = read_section(prm, name, "Checkpoint", &CheckpointParameters::read);
      p.noise      = read_section(prm, name, "Noise", [&](const EntryReader &r) {
        NoiseParameters noise = NoiseParameters::read(r);
        if (noise.has_common_noise() && p.masked())
          r.fail("common noise", "empty with Attention/type = masked (no common noise on the (s, x) mesh)");
        if (noise.has_diffusion() && p.masked())
          r.fail("diffusion", "0 with Attention/type = masked (the position s is a label: diffusion there is not "
                              "implemented)");
        if (noise.has_common_noise())
          noise.fields = noise::read_common_noise(r, dim, p.mesh.on_sphere());
        return noise;
      });
      return p;
    }
  } // namespace

  void declare_parameters(ParameterHandler &prm)
  {
    prm.declare_entry("dimension", "2", Patterns::Integer(1, 3),
                      "Space dimension d of the token space R^d (1, 2 or 3). Read first: every vector below has d "
                      "entries and every matrix is checked against d.");
    for (const Section &section : sections())
      {
        EntryDeclarations entries;
        section.declare(entries);
        prm.enter_subsection(section.name);
        for (const auto &entry : entries.entries())
          {
            // A per-layer entry holds '|'-separated values: its reader checks each against the pattern.
            const bool layered = section.per_layer && section.per_layer(entry.name);
            prm.declare_entry(entry.name, entry.default_value,
                              *to_pattern(layered ? EntryPattern::anything() : entry.pattern),
                              entry.documentation + (layered ? " Layers: one value for every layer, or one per layer "
                                                               "separated by '|' ('||' where '|' separates heads)." :
                                                               ""));
          }
        prm.leave_subsection();
      }
  }

  namespace
  {
    std::string first_sentence(const std::string &text)
    {
      const auto end = text.find(". ");
      std::string sentence = end == std::string::npos ? text : text.substr(0, end + 1);
      while (!sentence.empty() && (sentence.back() == ';' || sentence.back() == ' '))
        sentence.pop_back();
      return sentence;
    }

    template <typename Value>
    void list_choices(std::ostringstream &out, const std::string &where, const Choices<Value> &choices)
    {
      out << "  " << where << ":\n";
      for (const auto &item : choices.items())
        out << "    " << item.name << ": " << first_sentence(item.documentation) << "\n";
    }
  } // namespace

  std::string component_overview()
  {
    std::ostringstream out;
    out << "  Attention/type (solver/attention/<name>.cc):\n";
    for (const attention::Variant &variant : attention::variants())
      out << "    " << variant.name << ": " << first_sentence(variant.documentation) << "\n";
    list_choices(out, "Initial condition/type (solver/initial/)", initial_types());
    list_choices(out, "Mesh/domain", MeshParameters::domains());
    list_choices(out, "Mesh refinement/indicator", MeshRefinementParameters::indicators());
    list_choices(out, "Time stepping/scheme", TimeSteppingParameters::schemes());
    return out.str();
  }

  namespace
  {
    /// A line as deal.II reads it: tabs as spaces, without its comment
    /// (from '#') and surrounding white space.
    std::string content_of(std::string line)
    {
      std::replace(line.begin(), line.end(), '\t', ' ');
      return dealii::Utilities::trim(line.substr(0, line.find('#')));
    }

    /// deal.II accepts its keywords in lower or upper case.
    bool starts_with_keyword(const std::string &content, const std::string &lower)
    {
      std::string upper = lower;
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      return content.rfind(lower, 0) == 0 || content.rfind(upper, 0) == 0;
    }

    /// deal.II's ParameterHandler keeps the last of two `set` lines of one
    /// entry silently; the text is scanned first, tracking `subsection` and
    /// `end`, so that both lines are named. Also refuses a file without a
    /// single entry (empty, or only comments).
    /// Returns the "Subsection/entry" keys that the text sets.
    std::set<std::string> check_entries_set_once(const std::string &text, const std::string &name)
    {
      std::istringstream                   in(text);
      std::string                          line;
      std::vector<std::string>             path; // open subsections
      std::map<std::string, unsigned int>  first_line;
      unsigned int                         number = 0;
      bool                                 any    = false;
      bool                                 joined = false; // the previous line ended in a backslash
      while (std::getline(in, line))
        {
          ++number;
          const std::string content   = content_of(line);
          const std::string raw       = dealii::Utilities::trim(line);
          const bool        continued = joined;
          // deal.II decides on the raw line, before removing the comment.
          joined = !raw.empty() && raw.back() == '\\';
          if (continued)
            continue; // deal.II joins the line to the previous one
          if (starts_with_keyword(content, "subsection "))
            path.push_back(dealii::Utilities::trim(content.substr(11)));
          else if ((content == "end" || content == "END") && !path.empty())
            path.pop_back();
          else if (starts_with_keyword(content, "set "))
            {
              any                  = true;
              const auto        eq    = content.find('=');
              const std::string entry = dealii::Utilities::trim(content.substr(4, eq == std::string::npos ? std::string::npos : eq - 4));
              std::string       key;
              for (const auto &section : path)
                key += section + "/";
              key += entry;
              const auto [at, fresh] = first_line.emplace(key, number);
              if (!fresh)
                throw InputError(name + ": line " + std::to_string(number) + ": entry '" + key +
                                 "' is set twice (lines " + std::to_string(at->second) + " and " +
                                 std::to_string(number) + "); expected each entry once");
            }
          else if (!content.empty())
            any = true; // deal.II names what is wrong with it
        }
      if (!any)
        throw InputError(name + ": expected a parameter file with entries ('set entry = value'), got " +
                         (text.empty() ? "an empty file" : "no 'set' line"));
      std::set<std::string> keys;
      for (const auto &entry : first_line)
        keys.insert(entry.first);
      return keys;
    }
  } // namespace

  Parameters parse_parameters(const std::string              &text,
                              const std::string              &name,
                              const std::vector<std::string> &overrides)
  {
    std::set<std::string> explicit_entries = check_entries_set_once(text, name);
    ParameterHandler      prm;
    parse_into_handler(prm, text, name, overrides);
    for (const std::string &o : overrides) // well-formed: parse_into_handler applied them
      {
        std::string key;
        for (const std::string &part : dealii::Utilities::split_string_list(o.substr(0, o.find('=')), '/'))
          key += (key.empty() ? "" : "/") + part;
        explicit_entries.insert(key);
      }
    try
      {
        Parameters         p = extract(prm, name, explicit_entries);
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

  GridEntries read_grid_entries(const std::string &as_prm, const std::string &name)
  {
    ParameterHandler prm;
    parse_into_handler(prm, as_prm, name, {}, true);
    try
      {
        GridEntries grid;
        grid.dimension = prm.get_integer("dimension");
        grid.mesh = read_section(prm, name, "Mesh", [&](const EntryReader &r) { return MeshParameters::read(r, grid.dimension); });
        grid.discretization = read_section(prm, name, "Discretization", &DiscretizationParameters::read);
        grid.attention_type = read_section(prm, name, "Attention", [](const EntryReader &r) { return r.trimmed("type"); });
        return grid;
      }
    catch (const dealii::ExceptionBase &e)
      {
        throw InputError(name + ": " + message_of(e));
      }
  }

  Parameters read_parameters(const std::string &file, const std::vector<std::string> &overrides)
  {
    return parse_parameters(read_input_file(file, "parameter file"), file, overrides);
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
  std::unique_ptr<reference::GaussianReference> exact_gaussian_reference(const Parameters &p)
  {
    const auto gaussian = p.initial.gaussian();
    if (!gaussian || !reference::has_gaussian_reference(p.attention_type) || !p.layers.keeps_gaussians() ||
        p.noise.has_common_noise())
      return nullptr;
    auto exact = std::make_unique<reference::GaussianReference>(p.attention_type, p.layers, *gaussian);
    exact->set_diffusion(p.noise.diffusion);
    return exact;
  }
} // namespace tpde
