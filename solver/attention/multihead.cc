// Multi-head self-attention (physics.md §1.3):
//
//   X(x) = sum_h C_h * sum_j w_j exp(beta_h <Q_h x, K_h y_j>) y_j / sum_j w_j exp(beta_h <Q_h x, K_h y_j>),
//
// one softmax attention per head h = 1..H, each mapped by its output-value
// matrix C_h = W_h^T V_h, summed over the heads.
//
// Parameters (Parameters::heads, from `subsection Attention`: heads, head Q,
// head K, head C, head beta): for every head Q_h and K_h (k_h x d, the same
// shape, any k_h >= 1; the heads may differ), C_h (d x d) and a finite beta_h;
// d = 1, 2, 3. The single-head entries Q, K, V and beta are not used. The
// paper's code ([CODE] rhs_multihead) takes Q_h, K_h as consecutive blocks
// of k = d / H rows of d x d matrices Q, K, C_h = W_h^T V_h and beta_h = 1/sqrt(k).
// Sources with w_j = 0 are ignored; the total weight must be positive.
//
// Evaluation: each head is the softmax kernel (create_exponential_kernel,
// with the `evaluation` and `tolerance` settings of the parameters) with
// V = C_h; the heads' velocities are added.
#include "attention/exponential_kernel.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    class MultiheadKernel : public CheckedKernel
    {
    public:
      explicit MultiheadKernel(const Parameters &parameters)
        : CheckedKernel("multihead", parameters.dim)
      {
        for (std::size_t h = 0; h < parameters.heads.size(); ++h)
          {
            const Parameters::Head &head = parameters.heads[h];
            Parameters              single = parameters; // keeps the evaluation settings
            single.heads.clear();
            single.beta = head.beta;
            single.Q    = head.Q;
            single.K    = head.K;
            single.V    = head.C;
            try
              {
                heads.push_back(
                  create_exponential_kernel("multihead", single, head.beta, 0., true));
              }
            catch (const std::invalid_argument &e)
              {
                // Shapes are checked by check_heads; what remains is per head
                // (non-finite entries, a too large beta).
                throw std::invalid_argument("head " + std::to_string(h + 1) + ": " + e.what());
              }
          }
      }

      void begin_step() const override
      {
        for (const auto &head : heads)
          head->begin_step();
      }

    protected:
      void evaluate_checked(const Targets &targets,
                            const Sources &sources,
                            double        *velocities) const override
      {
        const std::size_t size          = targets.n * point_dimension;
        const auto        evaluate_head = [&](std::size_t h, double *result) {
          heads[h]->evaluate(
            targets.n, targets.points, sources.n, sources.points, sources.weights, result);
        };
        evaluate_head(0, velocities);
        std::vector<double> head_velocities(heads.size() > 1 ? size : 0);
        for (std::size_t h = 1; h < heads.size(); ++h)
          {
            evaluate_head(h, head_velocities.data());
            for (std::size_t k = 0; k < size; ++k)
              velocities[k] += head_velocities[k];
          }
      }

    private:
      std::vector<std::unique_ptr<Kernel>> heads; // softmax kernels with V = C_h
    };

    /// Shapes of the heads, with messages naming the per-head entries.
    void check_heads(const Parameters &parameters)
    {
      const std::string d = std::to_string(parameters.dim);
      if (parameters.dim < 1 || parameters.dim > 3)
        throw std::invalid_argument("multihead attention supports dim = 1, 2 or 3, got " + d);
      if (parameters.heads.empty())
        throw std::invalid_argument("entry 'heads': multihead attention needs at least one head");
      for (std::size_t h = 0; h < parameters.heads.size(); ++h)
        {
          const Parameters::Head &head  = parameters.heads[h];
          const std::string       which = "head " + std::to_string(h + 1) + " ";
          if (head.Q.rows < 1 || head.Q.cols != parameters.dim)
            throw std::invalid_argument("entry 'head Q': " + which + "must be k x " + d +
                                        " (k >= 1 rows of " + d + " entries), got " +
                                        shape(head.Q));
          if (head.K.rows != head.Q.rows || head.K.cols != head.Q.cols)
            throw std::invalid_argument("entry 'head K': " + which +
                                        "must have the shape of its Q (" + shape(head.Q) +
                                        "), got " + shape(head.K));
          if (head.C.rows != parameters.dim || head.C.cols != parameters.dim)
            throw std::invalid_argument("entry 'head C': " + which + "must be " + d + " x " + d +
                                        ", got " + shape(head.C));
          if (!std::isfinite(head.beta))
            throw std::invalid_argument("entry 'head beta': " + which + "must be finite");
        }
    }
  } // namespace

  namespace
  {
    /// multihead: `heads` heads from the '|'-separated per-head entries head Q,
    /// head K, head C (matrices; empty: the d x d identity) and head beta; a
    /// single item stands for every head. Shapes are checked by the variant.
    constexpr std::size_t max_heads = 4096;

    std::vector<Parameters::Head> read_heads(const EntryReader &r, unsigned int dim)
    {
      const std::size_t n     = r.integer("heads");
      // One Head (three matrices) each: a count beyond any model is a typo,
      // not an allocation to attempt (fuzzing found 2e9 -> std::bad_alloc).
      if (n > max_heads)
        r.fail("heads", "expected at most " + std::to_string(max_heads) + " heads, got " + std::to_string(n));
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

    /// The moment model (physics.md §2.3), A_h = beta_h K_h^T Q_h:
    /// X(x) = sum_h C_h (alpha + Sigma A_h x),
    ///   alpha' = sum_h C_h (I + Sigma A_h) alpha,  Sigma' = sum_h (C_h Sigma A_h Sigma + transpose).
    MomentDerivative make_multihead_moments(const Parameters &p)
    {
      if (p.heads.empty())
        throw std::invalid_argument("Gaussian reference 'multihead': no heads");
      std::vector<Matrix> A, C;
      for (std::size_t h = 0; h < p.heads.size(); ++h)
        {
          Parameters single = p;
          single.beta       = p.heads[h].beta;
          single.Q          = p.heads[h].Q;
          single.K          = p.heads[h].K;
          single.V          = p.heads[h].C;
          check_moment_parameters("multihead (head " + std::to_string(h + 1) + ")", single);
          A.push_back(single.beta * (transpose(single.K) * single.Q));
          C.push_back(single.V);
        }
      const Matrix I = Matrix::identity(p.dim);
      return [A, C, I](const GaussianState &s) {
        const Matrix       &Sigma = s.covariance;
        Matrix              M(Sigma.rows, Sigma.cols);
        std::vector<double> mean_rate(s.mean.size(), 0.);
        for (std::size_t h = 0; h < A.size(); ++h)
          {
            M                             = M + C[h] * Sigma * A[h] * Sigma;
            const std::vector<double> add = C[h] * (I + Sigma * A[h]) * s.mean;
            for (std::size_t i = 0; i < mean_rate.size(); ++i)
              mean_rate[i] += add[i];
          }
        return GaussianState{mean_rate, M + transpose(M)};
      };
    }
  } // namespace

  Variant make_multihead_variant()
  {
    Variant variant{"multihead",
            "Multi-head attention: X(x) = sum_h C_h * sum_j w_j exp(beta_h <Q_h x, K_h y_j>) y_j "
            "/ sum_j w_j exp(beta_h <Q_h x, K_h y_j>), one softmax attention per head mapped by "
            "its output-value matrix C_h = W_h^T V_h. Per head (entries heads, head Q, head K, "
            "head C, head beta): Q_h and K_h k_h x d (same shape, any k_h >= 1), C_h d x d, "
            "beta_h finite; Q, K, V and beta are not used (d = 1, 2 or 3).",
            [](const Parameters &parameters) -> std::unique_ptr<Kernel> {
              check_heads(parameters);
              return std::make_unique<MultiheadKernel>(parameters);
            }};
    Capabilities &can = variant.capabilities;
    can.moment_model      = make_multihead_moments;
    can.masked_base       = true;
    can.fast_summation    = true;
    can.float_exponential = true;
    variant.declare_entries = [](EntryDeclarations &entries) {
      entries.declare("heads", "1", EntryPattern::integer(1),
                      "multihead: number of heads H. Per head h, X += C_h * (softmax mean with beta_h <Q_h x, K_h "
                      "y>); Q, K, V and beta are then not used.");
      entries.declare("head Q", "", EntryPattern::anything(),
                      "multihead: H query matrices (k_h x d each, rows separated by ';') separated by '|', e.g. '1, "
                      "0 | 0, 1'; one matrix stands for every head; empty: the identity.");
      entries.declare("head K", "", EntryPattern::anything(),
                      "multihead: H key matrices separated by '|', each of its head's Q shape.");
      entries.declare("head C", "", EntryPattern::anything(),
                      "multihead: H output-value matrices C_h = W_h^T V_h (d x d) separated by '|'.");
      entries.declare("head beta", "1", EntryPattern::anything(),
                      "multihead: H inverse temperatures separated by '|' (one stands for all).");
    };
    variant.read_entries = [](const EntryReader &r, Parameters &p) { p.heads = read_heads(r, p.dim); };
    variant.list_entries = {"head Q", "head K", "head C", "head beta"};
    return variant;
  }
} // namespace tpde::attention
