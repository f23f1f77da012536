#include "common/json.h"

#include "common/input_file.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace tpde::json
{
  namespace
  {
    constexpr unsigned int max_depth = 64;

    class Parser
    {
    public:
      explicit Parser(const std::string &text)
        : text(text)
      {}

      Value document()
      {
        skip_blanks();
        Value v = value(0);
        skip_blanks();
        if (at < text.size())
          fail("expected the end of the file after the value, got " + describe_here());
        return v;
      }

    private:
      const std::string &text;
      std::size_t        at     = 0;
      unsigned int       line   = 1;
      unsigned int       column = 1;

      [[noreturn]] void fail(const std::string &what) const
      {
        throw std::invalid_argument("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                                    what);
      }

      /// The character at the current position, quoted, for messages.
      std::string describe_here() const
      {
        if (at >= text.size())
          return "the end of the file";
        const unsigned char c = text[at];
        if (c < 32 || c >= 127)
          return "the byte " + std::to_string(c);
        return std::string("'") + text[at] + "'";
      }

      void advance()
      {
        if (text[at] == '\n')
          {
            ++line;
            column = 1;
          }
        else
          ++column;
        ++at;
      }

      void skip_blanks()
      {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
          advance();
      }

      /// Consumes `word` if the text continues with it.
      bool take(const std::string &word)
      {
        if (text.compare(at, word.size(), word) != 0)
          return false;
        for (std::size_t k = 0; k < word.size(); ++k)
          advance();
        return true;
      }

      void expect(char c, const std::string &context)
      {
        if (at >= text.size() || text[at] != c)
          fail(std::string("expected '") + c + "' " + context + ", got " + describe_here());
        advance();
      }

      Value value(unsigned int depth)
      {
        if (depth >= max_depth)
          fail("nesting deeper than " + std::to_string(max_depth) + " levels");
        Value v;
        v.line   = line;
        v.column = column;
        if (at >= text.size())
          fail("expected a value, got the end of the file");
        const char c = text[at];
        if (c == '{')
          object(v, depth);
        else if (c == '[')
          array(v, depth);
        else if (c == '"')
          {
            v.type   = Value::Type::string;
            v.string = string();
          }
        else if (take("true") || take("false"))
          {
            v.type    = Value::Type::boolean;
            v.boolean = c == 't';
          }
        else if (take("null"))
          v.type = Value::Type::null;
        else
          {
            v.type   = Value::Type::number;
            v.number = number();
          }
        return v;
      }

      /// The items of an array or the members of an object after its opening bracket, up to `close`:
      /// `item` reads one; ',' between them, none after the last.
      template <typename Item>
      void items(char close, const std::string &context, const Item &item)
      {
        advance(); // the opening bracket
        skip_blanks();
        if (at < text.size() && text[at] == close)
          return advance();
        for (;;)
          {
            skip_blanks();
            item();
            skip_blanks();
            if (at >= text.size() || text[at] != ',')
              return expect(close, "or ',' in " + context);
            advance();
          }
      }

      void object(Value &v, unsigned int depth)
      {
        v.type = Value::Type::object;
        items('}', "an object", [&] {
          if (at >= text.size() || text[at] != '"')
            fail("expected a key in double quotes, got " + describe_here());
          const unsigned int key_line = line, key_column = column;
          std::string        key      = string();
          if (v.find(key))
            {
              line   = key_line;
              column = key_column;
              fail("key '" + printable(key) + "' appears twice in one object");
            }
          skip_blanks();
          expect(':', "after the key '" + printable(key) + "'");
          skip_blanks();
          Value member = value(depth + 1);
          v.members.emplace_back(std::move(key), std::move(member));
        });
      }

      void array(Value &v, unsigned int depth)
      {
        v.type = Value::Type::array;
        items(']', "an array", [&] { v.items.push_back(value(depth + 1)); });
      }

      /// Four hex digits after "\u".
      unsigned int hex4()
      {
        unsigned int code = 0;
        for (int k = 0; k < 4; ++k)
          {
            const char c = at < text.size() ? text[at] : '\0';
            const int  digit = c >= '0' && c <= '9' ? c - '0' :
                               c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                               c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (digit < 0)
              fail("expected four hex digits after \\u, got " + describe_here());
            code = 16 * code + static_cast<unsigned int>(digit);
            advance();
          }
        return code;
      }

      static void append_utf8(std::string &out, unsigned int code)
      {
        if (code < 0x80)
          out += static_cast<char>(code);
        else if (code < 0x800)
          {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
        else if (code < 0x10000)
          {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
        else
          {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
      }

      /// An escape after the backslash.
      void escape(std::string &out)
      {
        const char c = at < text.size() ? text[at] : '\0';
        const std::string simple = "\"\\/bfnrt", meaning = "\"\\/\b\f\n\r\t";
        if (const auto k = simple.find(c); c != '\0' && k != std::string::npos)
          {
            out += meaning[k];
            return advance();
          }
        if (c != 'u')
          fail("expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), got " + describe_here());
        advance();
        unsigned int code = hex4();
        if (code >= 0xD800 && code < 0xDC00) // a high surrogate needs its low half
          {
            if (!take("\\u"))
              fail("expected the low half \\uDC00-\\uDFFF of a surrogate pair, got " + describe_here());
            const unsigned int low = hex4();
            if (low < 0xDC00 || low >= 0xE000)
              fail("expected the low half \\uDC00-\\uDFFF of a surrogate pair");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
        else if (code >= 0xDC00 && code < 0xE000)
          fail("a lone low surrogate \\u" + std::to_string(code));
        append_utf8(out, code);
      }

      std::string string()
      {
        advance(); // '"'
        std::string out;
        for (;;)
          {
            if (at >= text.size())
              fail("expected the closing '\"' of a string, got the end of the file");
            const unsigned char c = text[at];
            if (c == '"')
              {
                advance();
                return out;
              }
            if (c < 32)
              fail("expected no control character (byte " + std::to_string(c) + ") in a string; escape it");
            advance();
            if (c == '\\')
              escape(out);
            else
              out += static_cast<char>(c);
          }
      }

      /// Consumes digits; returns how many.
      std::size_t digits()
      {
        std::size_t n = 0;
        for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++n)
          advance();
        return n;
      }

      double number()
      {
        if (take("NaN"))
          return std::numeric_limits<double>::quiet_NaN();
        if (take("Infinity"))
          return std::numeric_limits<double>::infinity();
        if (take("-Infinity"))
          return -std::numeric_limits<double>::infinity();
        const std::size_t start = at;
        if (text[at] == '-')
          advance();
        // JSON: no leading '+', no leading zeros, digits on both sides of '.'.
        const bool zero = at < text.size() && text[at] == '0';
        const std::size_t integer = digits();
        if (integer == 0)
          fail(at == start ? "expected a value, got " + describe_here() : "expected digits after '-', got " + describe_here());
        if (zero && integer > 1)
          fail("expected a number without leading zeros, got '" + text.substr(start, at - start) + "'");
        if (at < text.size() && text[at] == '.')
          {
            advance();
            if (digits() == 0)
              fail("expected digits after the decimal point, got " + describe_here());
          }
        if (at < text.size() && (text[at] == 'e' || text[at] == 'E'))
          {
            advance();
            if (at < text.size() && (text[at] == '+' || text[at] == '-'))
              advance();
            if (digits() == 0)
              fail("expected digits in the exponent, got " + describe_here());
          }
        // strtod on exactly the validated characters (overflow gives +-inf, refused by the caller).
        return std::strtod(text.substr(start, at - start).c_str(), nullptr);
      }
    };
  } // namespace

  const Value *Value::find(const std::string &key) const
  {
    for (const auto &[name, value] : members)
      if (name == key)
        return &value;
    return nullptr;
  }

  std::string Value::where() const
  {
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  std::string Value::type_name() const
  {
    switch (type)
      {
        case Type::null:
          return "null";
        case Type::boolean:
          return "a boolean";
        case Type::number:
          return "a number";
        case Type::string:
          return "a string";
        case Type::array:
          return "an array";
        default:
          return "an object";
      }
  }

  Value parse(const std::string &text)
  {
    return Parser(text).document();
  }
} // namespace tpde::json
