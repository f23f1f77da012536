#include "attention/attention_entries.h"

#include "attention/exponential_kernel.h"

#include <cmath>

namespace tpde::attention
{
  namespace
  {
    std::string variant_documentation()
    {
      std::string text;
      for (const Variant &variant : variants())
        text += " " + variant.name + (variant.documentation.empty() ? "" : ": " + variant.documentation);
      return text;
    }

    /// Whether a variant's items of `entry` are separated by '|' already.
    bool is_list_entry(const std::string &entry)
    {
      for (const Variant &variant : variants())
        for (const std::string &name : variant.list_entries)
          if (name == entry)
            return true;
      return false;
    }
  } // namespace

  bool per_layer(const std::string &entry)
  {
    return entry != "type" && entry != "masked kernel";
  }

  std::vector<Parameters> read_layered_entries(const EntryReader &r, unsigned int dim, const std::string &type,
                                               const LayerTimes &times)
  {
    EntryDeclarations declared;
    declare_entries(declared);
    std::vector<Parameters> layers;
    for (const EntryReader &layer : layer_readers(r, declared, &per_layer,
                                                  [](const std::string &entry) {
                                                    return is_list_entry(entry) ? "||" : "|";
                                                  },
                                                  times))
      layers.push_back(read_entries(layer, dim, type));
    return layers;
  }

  const Choices<Parameters::Evaluation> &evaluations()
  {
    static const Choices<Parameters::Evaluation> all({
      {"direct", Parameters::Evaluation::direct, "every target-source pair, exact to rounding."},
      {"fast", Parameters::Evaluation::fast,
       "Chebyshev interpolation in score space a = beta K^T Q x on adaptive boxes "
       "(solver/attention/fast_summation.h), cost ~ targets + sources, with max |error| <= tolerance * max "
       "|velocity|. On the circle (Mesh/domain = sphere), softmax and unnormalized with beta Q^T K = a I + b J "
       "(e.g. Q = K = I) are a convolution and are summed by Fourier modes instead (solver/sphere/circle_fourier.h, "
       "cost ~ (targets + sources) x modes, at round-off; targets the modes do not resolve to tolerance are "
       "summed directly); other A on the circle use the interpolation. On S^2 (dimension = 3), softmax and "
       "unnormalized with beta Q^T K = r O (O orthogonal) are summed by spherical harmonics "
       "(solver/sphere/sphere_harmonics.h, cost ~ (targets + sources) x L^2, L chosen from the tolerance), "
       "unresolved targets directly."},
      {"auto", Parameters::Evaluation::automatic,
       "fast where a cost model says it is cheaper, else direct: with at least " +
         std::to_string(fast_summation_min_sources) +
         " sources (nodes with positive density), enough targets and tolerance >= 1e-13, a probe runs the fast "
         "summation on " + std::to_string(fast_summation_probe_sources) +
         " of the sources and its boxes and node sums are priced against the direct sum (constants measured "
         "on the development machine; deterministic, no clock). The column fast_share shows the share of "
         "targets interpolated (0: direct). On the circle the Fourier "
"modes whenever they apply (as fast), at any size; on S^2 the harmonics where they cost less than "
         "direct sums."},
    });
    return all;
  }

  const Choices<bool> &exponentials()
  {
    static const Choices<bool> all({
      {"double", false, "exp in double;"},
      {"float", true, "exp in float lanes, double sums."},
    });
    return all;
  }

  const Choices<bool> &sources_across_ranks()
  {
    static const Choices<bool> all({
      {"distributed", true,
       "each rank keeps only its own sources; the ranks build one box tree in score space together and add "
       "up their partial sums at its nodes (and at the few targets summed directly), so memory per rank is "
       "O(sources / ranks) and the data exchanged per stage do not grow with the sources (the environment variable "
       "TPDE_FAST_PROFILE=1 prints them per stage). Softmax and unnormalized on flat domains; the other variants "
       "and the sphere gather."},
      {"gathered", false,
       "every rank gathers every source (as with direct sums) and runs its own fast summation."},
    });
    return all;
  }

  void declare_entries(EntryDeclarations &entries)
  {
    entries.declare("type", "softmax", EntryPattern::selection(variant_names()),
                    "Attention variant; each is documented in solver/attention/<name>.cc." + variant_documentation());
    entries.declare("beta", "1", EntryPattern::real(), "Inverse temperature beta.");
    entries.declare("Q", "", EntryPattern::anything(),
                    "Query matrix, k x d with any k >= 1, rows separated by ';' (e.g. '1, 0; 0, 1'). Empty: the d x "
                    "d identity.");
    entries.declare("K", "", EntryPattern::anything(), "Key matrix, same shape as Q. Empty: the identity.");
    entries.declare("V", "", EntryPattern::anything(), "Value matrix, d x d. Empty: the identity.");
    for (const Variant &variant : variants())
      if (variant.declare_entries)
        variant.declare_entries(entries);
    entries.declare_choice("evaluation", "auto", evaluations(),
                           "How softmax, multihead, l2 and unnormalized (and sinkhorn: its iterations' sums, with the "
                           "potentials to an absolute error of 'sinkhorn tolerance' / 4, and its velocity) sum over the "
                           "sources (the other types are always direct).");
    entries.declare("tolerance", "1e-10", EntryPattern::anything(),
                    "Relative accuracy of evaluation = fast (and auto when it picks fast): a positive number, at "
                    "least ~1e-13 (the rounding of the score vectors).");
    entries.declare_choice("fast summation across ranks", "distributed", sources_across_ranks(),
                           "With evaluation = fast on several MPI ranks, where the sources live.");
    entries.declare_choice("exponential", "double", exponentials(),
                    "Precision of the exponentials in the direct sums of softmax, multihead, l2 and unnormalized "
                    "(and sinkhorn's velocity). double: relative error ~1e-15. float: exp in float (16 lanes per "
                    "AVX-512 register) with double accumulation, relative error ~1e-7, faster (see "
                    "tests/benchmarks/bench_attention.cc). The fast summation's exact evaluations always use "
                    "double (they must meet the tolerance).");
  }

  Parameters read_entries(const EntryReader &r, unsigned int dim, const std::string &type)
  {
    Parameters p;
    p.dim           = dim;
    p.beta          = r.real("beta");
    p.Q             = r.matrix("Q", dim);
    p.K             = r.matrix("K", dim);
    p.V             = r.matrix("V", dim);
    // Scores beta <Q x, K y> beyond ~1e300 overflow to inf, and inf - inf in the sums is NaN (the fast
    // summation's boxes then have no extent): refuse weights that no token can use.
    if (!(std::abs(p.beta) * max_abs(p.Q) * max_abs(p.K) <= 1e100))
      r.fail("beta", "expected |beta| max|Q| max|K| <= 1e100 (larger scores overflow), got beta = " +
                       r.trimmed("beta"));
    p.evaluation              = r.choice("evaluation", evaluations());
    const auto tolerance      = parse_number(r.text("tolerance"));
    if (!tolerance || !(*tolerance > 0.) || !std::isfinite(*tolerance))
      r.fail("tolerance", "expected a positive number, got '" + r.text("tolerance") + "'");
    p.tolerance         = *tolerance;
    p.float_exponential = r.choice("exponential", exponentials());
    p.distributed_sources = r.choice("fast summation across ranks", sources_across_ranks());
    try
      {
        const Variant &variant = find_variant(type);
        if (variant.read_entries)
          variant.read_entries(r, p);
        create(type, p);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(r.where() + ": " + e.what());
      }
    return p;
  }
} // namespace tpde::attention
