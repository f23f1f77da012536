// The weights file (attention/weights_file.h) without the solver: the strict
// JSON reader's values and positioned errors, the projection of a model of
// width D onto d dimensions against hand-computed matrices and against a
// brute-force D-dimensional softmax velocity, and the messages of bad files.
#include "attention/attention.h"
#include "attention/weights_file.h"
#include "common/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;

  /// The message parse_weights throws for `text` (empty if none).
  std::string weights_error(const std::string &text, unsigned int dim = 2)
  {
    try
      {
        attention::parse_weights(text, "w.json", dim);
      }
    catch (const InputError &e)
      {
        return e.what();
      }
    return "";
  }

  std::string json_matrix(const Matrix &m)
  {
    std::ostringstream out;
    out.precision(17);
    out << "[";
    for (std::size_t i = 0; i < m.rows; ++i)
      {
        out << (i ? ", [" : "[");
        for (std::size_t j = 0; j < m.cols; ++j)
          out << (j ? ", " : "") << m(i, j);
        out << "]";
      }
    return out.str() + "]";
  }

  Matrix random_matrix(std::size_t rows, std::size_t cols, std::mt19937 &rng)
  {
    std::normal_distribution<double> normal;
    Matrix                           m(rows, cols);
    for (double &x : m.data)
      x = normal(rng);
    return m;
  }

  /// d orthonormal rows in R^D (Gram-Schmidt on random rows).
  Matrix random_projection(std::size_t d, std::size_t D, std::mt19937 &rng)
  {
    Matrix p = random_matrix(d, D, rng);
    for (std::size_t i = 0; i < d; ++i)
      {
        for (std::size_t k = 0; k < i; ++k)
          {
            double dot = 0;
            for (std::size_t j = 0; j < D; ++j)
              dot += p(i, j) * p(k, j);
            for (std::size_t j = 0; j < D; ++j)
              p(i, j) -= dot * p(k, j);
          }
        double norm = 0;
        for (std::size_t j = 0; j < D; ++j)
          norm += p(i, j) * p(i, j);
        for (std::size_t j = 0; j < D; ++j)
          p(i, j) /= std::sqrt(norm);
      }
    return p;
  }

  std::string header(unsigned int D, const std::string &projection)
  {
    return "{\"format\": \"tpde-weights\", \"version\": 1, \"model dimension\": " + std::to_string(D) +
           (projection.empty() ? "" : ", \"projection\": " + projection) + ",\n \"layers\": [";
  }
} // namespace

TEST(Json, ParsesStrictValuesWithPositions)
{
  const json::Value v = json::parse("{\"a\": [1, -2.5e1, true, null],\n  \"s\": \"x\\ty\\u00e9\\ud83d\\ude00\"}");
  ASSERT_EQ(v.type, json::Value::Type::object);
  const json::Value &a = *v.find("a");
  ASSERT_EQ(a.items.size(), 4u);
  EXPECT_EQ(a.items[1].number, -25.);
  EXPECT_TRUE(a.items[2].boolean);
  EXPECT_EQ(a.items[3].type, json::Value::Type::null);
  EXPECT_EQ(v.find("s")->string, "x\ty\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.find("s")->where(), "line 2, column 8");
  EXPECT_TRUE(std::isnan(json::parse("NaN").number));
  EXPECT_TRUE(std::isinf(json::parse("1e999").number));
}

TEST(Json, ErrorsNameLineAndColumn)
{
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"[1, 2,]", "line 1, column 7: expected a value, got ']'"},
    {"{\"a\": 1,\n \"a\": 2}", "line 2, column 2: key 'a' appears twice"},
    {"[1] x", "line 1, column 5: expected the end of the file"},
    {"{'a': 1}", "line 1, column 2: expected a key in double quotes"},
    {"[01]", "line 1, column 4: expected a number without leading zeros, got '01'"},
    {"[1.]", "line 1, column 4: expected digits after the decimal point"},
    {"\"abc", "expected the closing '\"' of a string, got the end of the file"},
    {"[1 2]", "line 1, column 4: expected ']' or ',' in an array, got '2'"},
    {"// comment\n1", "line 1, column 1: expected a value, got '/'"},
    {"", "line 1, column 1: expected a value, got the end of the file"},
    {std::string(100, '['), "nesting deeper than 64 levels"},
  };
  for (const auto &[text, expected] : cases)
    {
      std::string message;
      try
        {
          json::parse(text);
        }
      catch (const std::invalid_argument &e)
        {
          message = e.what();
        }
      EXPECT_NE(message.find(expected), std::string::npos) << text << " -> " << message;
    }
}

// P = [1, 0, 0; 0, 0.6, 0.8]: Q P^T, K P^T and P V P^T by hand.
TEST(WeightsFile, ProjectionMatchesHandComputedMatrices)
{
  const std::string text = header(3, "[[1, 0, 0], [0, 0.6, 0.8]]") +
                           "{\"attention\": {\"Q\": [[1, 2, 3]], \"K\": [[0, 1, -1]], "
                           "\"V\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], \"beta\": 0.5}},"
                           "{\"attention\": {\"Q\": [[1, 0, 0]], \"K\": [[0, 0, 1]], "
                           "\"V\": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], \"beta\": 2}}]}";
  const auto w = attention::parse_weights(text, "w.json", 2);
  EXPECT_EQ(w.layers, 2u);
  EXPECT_EQ(w.entries.at("Attention/beta"), "0.5 | 2");
  const auto layer = [&](const std::string &entry, std::size_t l) {
    std::vector<std::string> parts;
    std::string              all = w.entries.at(entry);
    for (std::size_t at; (at = all.find(" | ")) != std::string::npos; all = all.substr(at + 3))
      parts.push_back(all.substr(0, at));
    parts.push_back(all);
    return Matrix::parse(parts.at(l));
  };
  const std::vector<std::pair<std::string, Matrix>> expected = {
    {"Q", Matrix::parse("1, 3.6")},        {"K", Matrix::parse("0, -0.2")},
    {"V", Matrix::parse("1, 3.6; 8, 14.28")},
  };
  for (const auto &[entry, m] : expected)
    EXPECT_LE(max_abs(layer("Attention/" + entry, 0) - m), 1e-14) << entry;
  // The identity becomes P P^T = I; e_1 -> (1, 0), e_3 -> (0, 0.8).
  EXPECT_LE(max_abs(layer("Attention/V", 1) - Matrix::identity(2)), 1e-15);
  EXPECT_LE(max_abs(layer("Attention/K", 1) - Matrix::parse("0, 0.8")), 1e-15);
  // A token-valued vector (the feed-forward bias b2) is P b.
  Matrix b(3, 1);
  b.data = {1, 2, 3};
  EXPECT_LE(max_abs(attention::project(b, attention::WeightsKey::Projection::rows, w.projection) -
                    Matrix::parse("1; 3.6")), 1e-15);
}

// On a V-invariant subspace span(P^T), the D-dimensional softmax velocity of
// tokens x = P^T z is P^T (the d-dimensional velocity with the projected
// weights): brute force in D = 5 against the solver's kernel in d = 2.
TEST(WeightsFile, ProjectedVelocityIsTheModelsOnAnInvariantSubspace)
{
  const unsigned int D = 5, d = 2, k = 3, n = 24;
  std::mt19937       rng(7);
  const Matrix       P  = random_projection(d, D, rng);
  const Matrix       Pt = transpose(P);
  const Matrix       Q = random_matrix(k, D, rng), K = random_matrix(k, D, rng);
  // V = P^T A P + R (I - P^T P): V P^T = P^T A, so span(P^T) is invariant.
  const Matrix V = Pt * random_matrix(d, d, rng) * P + random_matrix(D, D, rng) * (Matrix::identity(D) - Pt * P);
  const double beta = 0.4;
  std::ostringstream beta_text;
  beta_text.precision(17);
  beta_text << beta;
  const std::string text = header(D, json_matrix(P)) + "{\"attention\": {\"Q\": " + json_matrix(Q) +
                           ", \"K\": " + json_matrix(K) + ", \"V\": " + json_matrix(V) + ", \"beta\": " +
                           beta_text.str() + "}}]}";
  const auto w = attention::parse_weights(text, "w.json", d);

  attention::Parameters p;
  p.dim        = d;
  p.beta       = std::stod(w.entries.at("Attention/beta"));
  p.Q          = Matrix::parse(w.entries.at("Attention/Q"));
  p.K          = Matrix::parse(w.entries.at("Attention/K"));
  p.V          = Matrix::parse(w.entries.at("Attention/V"));
  p.evaluation = attention::Parameters::Evaluation::direct;
  const auto kernel = attention::create("softmax", p);

  const Matrix        z = random_matrix(n, d, rng);
  const Matrix        x = z * P; // rows x_i = P^T z_i
  std::vector<double> weights(n, 1. / n), velocity(n * d);
  kernel->evaluate(n, z.data.data(), n, z.data.data(), weights.data(), velocity.data());

  double worst = 0, off_subspace = 0;
  for (unsigned int i = 0; i < n; ++i)
    {
      // Brute force in R^D: sum_j softmax_j(beta <Q x_i, K x_j>) V x_j.
      std::vector<double> scores(n), v(D, 0.);
      double              top = -INFINITY, total = 0;
      for (unsigned int j = 0; j < n; ++j)
        {
          for (unsigned int r = 0; r < k; ++r)
            {
              double qx = 0, ky = 0;
              for (unsigned int c = 0; c < D; ++c)
                {
                  qx += Q(r, c) * x(i, c);
                  ky += K(r, c) * x(j, c);
                }
              scores[j] += beta * qx * ky;
            }
          top = std::max(top, scores[j]);
        }
      for (unsigned int j = 0; j < n; ++j)
        {
          const double e = std::exp(scores[j] - top);
          total += e;
          for (unsigned int r = 0; r < D; ++r)
            for (unsigned int c = 0; c < D; ++c)
              v[r] += e * V(r, c) * x(j, c);
        }
      for (double &vr : v)
        vr /= total;
      for (unsigned int r = 0; r < D; ++r) // v = P^T (P v): the velocity stays in the subspace
        {
          double lifted = 0;
          for (unsigned int c = 0; c < d; ++c)
            lifted += P(c, r) * velocity[i * d + c];
          off_subspace = std::max(off_subspace, std::abs(v[r] - lifted));
        }
      for (unsigned int c = 0; c < d; ++c)
        {
          double pv = 0;
          for (unsigned int r = 0; r < D; ++r)
            pv += P(c, r) * v[r];
          worst = std::max(worst, std::abs(pv - velocity[i * d + c]));
        }
    }
  std::printf("|P v_D - v_d| = %.3g, |v_D - P^T v_d| = %.3g\n", worst, off_subspace);
  EXPECT_LE(worst, 1e-12);
  EXPECT_LE(off_subspace, 1e-12);
}

TEST(WeightsFile, BadFilesNameTheFileTheLayerAndTheEntry)
{
  const std::string good = "{\"attention\": {\"V\": [[-1, 0], [0, -1]], \"beta\": 1}}";
  const std::vector<std::pair<std::string, std::string>> cases = {
    {header(2, "") + good + ", {\"attention\": {\"V\": [[-1, 0], [0, NaN]], \"beta\": 1}}]}",
     "w.json: layer 2 of 2, 'attention/V' (line 2, column 100): expected a finite number, got nan"},
    {header(2, "") + good + ", {\"attention\": {\"V\": [[-1, 0, 0], [0, 1, 0]], \"beta\": 1}}]}",
     "w.json: layer 2 of 2, 'attention/V' (line 2, column 86): expected a 2 x 2 matrix (model dimension 2), got 2 x 3"},
    {header(2, "") + good + ", {\"attention\": {\"V\": [[-1, 0], [0, -1]], \"gamma\": 1}}]}",
     "w.json: layer 2 of 2, 'attention/gamma' (line 2, column 115): unknown key (known keys of 'attention': 'Q'"},
    {header(2, "") + good + ", {\"attention\": {\"V\": [[-1, 0], [0, -1]]}}]}",
     "w.json: layer 2 of 2 (line 2, column 66): missing 'attention/beta' (layer 1 of 2, 'attention/beta' at line 2, column 61 gives it"},
    {header(2, "") + good + ", {\"feed forward\": {}}]}", "w.json: layer 2 of 2, key 'feed forward'"},
    {header(2, "") + good + ", {\"attention\": {\"Q\": [[1, 0], [0]], \"V\": [[-1, 0], [0, -1]], \"beta\": 1}}]}",
     "layer 2 of 2, 'attention/Q' (line 2, column 95): expected rows of equal length: row 2 has 1 numbers"},
    {header(2, "") + good + ",]}", "w.json: line 2, column 65: expected a value, got ']'"},
    {header(2, "") + "]}", "w.json: key 'layers' (line 2, column 12): expected a non-empty array of layers"},
    {header(3, "") + good + "]}", "w.json: key 'projection' (line 1, column 1): missing: a model of dimension 3 "
                                  "needs a 2 x 3 projection"},
    {header(3, "[[1, 0, 0], [0, 1, 0.1]]") + good + "]}",
     "key 'projection' (line 1, column 78): expected orthonormal rows (P P^T = I to 1e-10)"},
    {header(3, "[[1, 0, 0]]") + good + "]}", "expected a 2 x 3 matrix (dimension x model dimension), got 1 x 3"},
    {header(1, "") + good + "]}", "key 'model dimension' (line 1, column 61): expected a whole number D >= dimension 2"},
    {"{\"format\": \"tpde\", \"version\": 1}", "key 'format' (line 1, column 12): expected \"tpde-weights\""},
    {header(2, "").substr(0, 41) + "\"colour\": 1}", "key 'colour' (line 1, column 52): unknown key"},
    {header(2, "").substr(0, 41) + "\"a\\u000ab\": 1}", "key 'a\\x0ab' (line 1, column 54): unknown key"},
  };
  for (const auto &[text, expected] : cases)
    {
      const std::string message = weights_error(text);
      EXPECT_NE(message.find(expected), std::string::npos) << text << "\n -> " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    }
}

// Mutated valid files (byte flips, insertions, deletions, truncation): every one is read or refused
// with a one-line InputError, never a crash or another exception.
TEST(WeightsFile, MutatedFilesAreReadOrRefusedInOneLine)
{
  const std::string valid = header(3, "[[1, 0, 0], [0, 0.6, 0.8]]") +
                            "{\"attention\": {\"Q\": [[1, 2, 3]], \"K\": [[0, 1, -1]], \"head beta\": [1, 2], "
                            "\"V\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], \"beta\": 0.5, \"heads\": 2}}]}";
  const std::string alphabet = "{}[]\",:0123456789.eE+-NaIfinty \n\\u";
  std::mt19937      rng(11);
  unsigned int      refused = 0;
  for (int round = 0; round < 3000; ++round)
    {
      std::string text = valid;
      for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !text.empty(); --edits)
        {
          const std::size_t at = rng() % text.size();
          switch (rng() % 4)
            {
              case 0:
                text[at] = alphabet[rng() % alphabet.size()];
                break;
              case 1:
                text.insert(at, 1, alphabet[rng() % alphabet.size()]);
                break;
              case 2:
                text.erase(at, 1 + rng() % 8);
                break;
              default:
                text.resize(at);
            }
        }
      const std::string message = weights_error(text, 2);
      refused += !message.empty();
      ASSERT_EQ(message.find('\n'), std::string::npos) << text << "\n -> " << message;
    }
  std::printf("%u of 3000 mutated files refused\n", refused);
  EXPECT_GT(refused, 1000u);
}
