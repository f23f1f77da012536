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

    /// multihead: `heads` heads from the '|'-separated per-head entries head Q,
    /// head K, head C (matrices; empty: the d x d identity) and head beta; a
    /// single item stands for every head. Shapes are checked by the variant.
    std::vector<Parameters::Head> read_heads(const EntryReader &r, unsigned int dim)
    {
      const std::size_t n     = r.integer("heads");
      const auto        items = [&](const std::string &entry) {
        auto list = r.items(entry, '|');
        if (list.size() <= 1)
          list.assign(n, list.empty() ? std::string() : list.front());
        if (list.size() != n)
          r.fail(entry, "expected " + std::to_string(n) + " items separated by '|' (one per head, " +
                          "or one for every head), got " + std::to_string(list.size()));
        return list;
      };
      std::vector<Parameters::Head> heads(n);
      for (const auto &[entry, member] : {std::pair{"head Q", &Parameters::Head::Q},
                                          std::pair{"head K", &Parameters::Head::K},
                                          std::pair{"head C", &Parameters::Head::C}})
        {
          const auto texts = items(entry);
          for (std::size_t h = 0; h < n; ++h)
            try
              {
                heads[h].*member = texts[h].find_first_not_of(" \t") == std::string::npos ? Matrix::identity(dim) :
                                                                                            Matrix::parse(texts[h]);
              }
            catch (const std::invalid_argument &e)
              {
                r.fail(entry, "expected one matrix per head (rows separated by ';', entries by ',', heads by "
                              "'|'), but head " + std::to_string(h + 1) + ": " + e.what());
              }
        }
      const auto betas = items("head beta");
      for (std::size_t h = 0; h < n; ++h)
        {
          const auto value = parse_number(betas[h]);
          if (!value)
            r.fail("head beta", "expected one number per head separated by '|', but '" + betas[h] + "' is not a number");
          heads[h].beta = *value;
        }
      return heads;
    }
  } // namespace

  const Choices<Parameters::Evaluation> &evaluations()
  {
    static const Choices<Parameters::Evaluation> all({
      {"direct", Parameters::Evaluation::direct, "every target-source pair, exact to rounding."},
      {"fast", Parameters::Evaluation::fast,
       "Chebyshev interpolation in score space a = beta K^T Q x on adaptive boxes "
       "(solver/attention/fast_summation.h), cost ~ targets + sources, with max |error| <= tolerance * max "
       "|velocity|."},
      {"auto", Parameters::Evaluation::automatic,
       "fast when there are at least " + std::to_string(fast_summation_min_targets) + " targets and " +
         std::to_string(fast_summation_min_sources) +
         " sources (nodes with positive density) and tolerance >= 1e-13, falling back to direct when the "
         "interpolation costs more than a quarter of the direct sum; else direct."},
    });
    return all;
  }

  void declare_entries(EntryDeclarations &entries)
  {
    entries.declare("type", "softmax", EntryPattern::selection(variant_names()),
                    "Attention variant; each is documented in solver/attention/<name>.cc." + variant_documentation());
    entries.declare("beta", "1", EntryPattern::real(), "Inverse temperature beta.");
    entries.declare("bias", "0", EntryPattern::real(),
                    "Bias b of sigmoid attention, sigma(beta <Qx, Ky> + b) (unused by the others).");
    entries.declare("Q", "", EntryPattern::anything(),
                    "Query matrix, k x d with any k >= 1, rows separated by ';' (e.g. '1, 0; 0, 1'). Empty: the d x "
                    "d identity.");
    entries.declare("K", "", EntryPattern::anything(), "Key matrix, same shape as Q. Empty: the identity.");
    entries.declare("V", "", EntryPattern::anything(), "Value matrix, d x d. Empty: the identity.");
    entries.declare("heads", "1", EntryPattern::integer(1),
                    "multihead: number of heads H. Per head h, X += C_h * (softmax mean with beta_h <Q_h x, K_h "
                    "y>); Q, K, V and beta are then not used.");
    entries.declare("head Q", "", EntryPattern::anything(),
                    "multihead: H query matrices (k_h x d each, rows separated by ';') separated by '|', e.g. '1, 0 "
                    "| 0, 1'; one matrix stands for every head; empty: the identity.");
    entries.declare("head K", "", EntryPattern::anything(),
                    "multihead: H key matrices separated by '|', each of its head's Q shape.");
    entries.declare("head C", "", EntryPattern::anything(),
                    "multihead: H output-value matrices C_h = W_h^T V_h (d x d) separated by '|'.");
    entries.declare("head beta", "1", EntryPattern::anything(),
                    "multihead: H inverse temperatures separated by '|' (one stands for all).");
    entries.declare("sinkhorn epsilon", "1", EntryPattern::real(),
                    "sinkhorn: temperature epsilon > 0 of the plan exp((beta <Qx,Ky> + f(x) + g(y)) / epsilon).");
    entries.declare("sinkhorn tolerance", "1e-12", EntryPattern::real(),
                    "sinkhorn: iterate until both marginals of the plan are within this of 1 (max norm) at every "
                    "evaluation.");
    entries.declare("sinkhorn maximum iterations", "1000", EntryPattern::integer(1),
                    "sinkhorn: iterations allowed per evaluation; not converging is a physical failure (exit code "
                    "3).");
    entries.declare_choice("evaluation", "auto", evaluations(),
                           "How softmax, multihead, l2 and unnormalized (and sinkhorn's velocity once its potentials "
                           "are found) sum over the sources (the other types are always direct).");
    entries.declare("tolerance", "1e-10", EntryPattern::anything(),
                    "Relative accuracy of evaluation = fast (and auto when it picks fast): a positive number, at "
                    "least ~1e-13 (the rounding of the score vectors).");
    entries.declare("exponential", "double", EntryPattern::selection("double|float"),
                    "Precision of the exponentials in the direct sums of softmax, multihead, l2 and unnormalized "
                    "(and sinkhorn's velocity). double: relative error ~1e-15. float: exp in float (16 lanes per "
                    "AVX-512 register) with double accumulation, relative error ~1e-7, faster (see "
                    "tests/benchmarks/bench_attention.cc). The fast summation's exact evaluations always use "
                    "double (they must meet the tolerance).");
    entries.declare("masked kernel", "softmax", EntryPattern::anything(),
                    "masked: the variant each token applies to the tokens at or before its position s (softmax, "
                    "l2, multihead, unnormalized or sigmoid, with their entries above); see subsection 'Masked "
                    "attention'.");
  }

  Parameters read_entries(const EntryReader &r, unsigned int dim, const std::string &type)
  {
    Parameters p;
    p.dim           = dim;
    p.beta          = r.real("beta");
    p.bias          = r.real("bias");
    p.Q             = r.matrix("Q", dim);
    p.K             = r.matrix("K", dim);
    p.V             = r.matrix("V", dim);
    p.masked_kernel = r.text("masked kernel");
    const bool heads_used = type == "multihead" || (type == "masked" && p.masked_kernel == "multihead");
    if (heads_used) // like the mixture entries: read when used
      p.heads = read_heads(r, dim);
    p.sinkhorn_epsilon        = r.real("sinkhorn epsilon");
    p.sinkhorn_tolerance      = r.real("sinkhorn tolerance");
    p.sinkhorn_max_iterations = r.integer("sinkhorn maximum iterations");
    p.evaluation              = r.choice("evaluation", evaluations());
    const auto tolerance      = parse_number(r.text("tolerance"));
    if (!tolerance || !(*tolerance > 0.) || !std::isfinite(*tolerance))
      r.fail("tolerance", "expected a positive number, got '" + r.text("tolerance") + "'");
    p.tolerance         = *tolerance;
    p.float_exponential = r.text("exponential") == "float";
    try
      {
        create(type, p);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(r.file() + ": subsection 'Attention': " + e.what());
      }
    return p;
  }
} // namespace tpde::attention
