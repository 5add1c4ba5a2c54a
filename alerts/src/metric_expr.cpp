// The parser of metric rule expressions (grammar in metric_rule.hpp). Pure: text in, a checked
// expression or an error naming the column out; the check registry says which kinds and
// metrics exist and in which unit.
#include <cctype>
#include <cstdlib>

#include "xj/alerts/metric_rule.hpp"
#include "xj/checks/registry.hpp"

namespace xj::alerts {
namespace {

// Kinds whose metric names the user chooses (exec perfdata labels, SQL queries) declare them
// as "<perfdata label>" or "(postgres metrics)": any name is accepted there.
bool user_named(const MetricSpec& m) {
  return !m.name.empty() && (m.name[0] == '<' || m.name[0] == '(');
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == ':' || c == '/';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Expected<MetricExpr> run() {
    MetricExpr e;
    e.text = std::string(t_);
    skip_ws();
    if (pos_ == t_.size())
      return make_error("is empty; write a comparison like disk.used_pct > 90");
    for (;;) {
      const std::size_t start = pos_;
      MetricTerm term;
      if (!comparison(term)) return make_error(*error_);
      if (!e.terms.empty() && term.kind != e.terms[0].kind) {
        return fail_at("the comparisons of an 'and' must be on one check kind, not '" +
                           e.terms[0].kind + "' and '" + term.kind + "'",
                       start);
      }
      e.terms.push_back(std::move(term));
      skip_ws();
      if (pos_ == t_.size()) return e;
      if (!keyword("and")) return fail_at("expected 'and' or the end of the expression", pos_);
      skip_ws();
    }
  }

 private:
  // 1-based, in characters: a label value may be Chinese.
  int column(std::size_t at) const {
    int col = 1;
    for (std::size_t i = 0; i < at && i < t_.size(); ++i) {
      if ((static_cast<unsigned char>(t_[i]) & 0xC0) != 0x80) ++col;
    }
    return col;
  }
  Error fail_at(const std::string& message, std::size_t at) {
    error_ = message + " at column " + std::to_string(column(at));
    return make_error(*error_);
  }
  bool failed(const std::string& message, std::size_t at) {
    fail_at(message, at);
    return false;
  }
  void skip_ws() {
    while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
  }
  bool keyword(std::string_view w) {
    if (t_.substr(pos_, w.size()) != w) return false;
    const std::size_t end = pos_ + w.size();
    if (end < t_.size() && name_char(t_[end])) return false;
    pos_ = end;
    return true;
  }
  std::string word(bool (*ok)(char)) {
    const std::size_t start = pos_;
    while (pos_ < t_.size() && ok(t_[pos_])) ++pos_;
    return std::string(t_.substr(start, pos_ - start));
  }

  bool quoted(std::string& out) {
    const char q = t_[pos_];
    const std::size_t start = pos_++;
    while (pos_ < t_.size() && t_[pos_] != q) {
      if (t_[pos_] == '\\' && pos_ + 1 < t_.size()) ++pos_;
      out += t_[pos_++];
    }
    if (pos_ == t_.size()) return failed("unterminated string", start);
    ++pos_;
    return true;
  }

  bool comparison(MetricTerm& term) {
    const std::size_t start = pos_;
    term.kind = word([](char c) {
      return std::islower(static_cast<unsigned char>(c)) || c == '_' ||
             std::isdigit(static_cast<unsigned char>(c));
    });
    if (term.kind.empty() || std::isdigit(static_cast<unsigned char>(term.kind[0]))) {
      return failed("expected a metric like disk.used_pct", start);
    }
    const CheckSpec* spec = find_check_spec(term.kind);
    if (spec == nullptr) {
      std::string kinds;
      for (const auto& s : check_registry()) kinds += (kinds.empty() ? "" : ", ") + s.kind;
      return failed("'" + term.kind + "' is not a check kind (" + kinds + ")", start);
    }
    if (pos_ == t_.size() || t_[pos_] != '.') {
      return failed("expected '.' and a metric name after '" + term.kind + "'", pos_);
    }
    ++pos_;
    const std::size_t name_at = pos_;
    if (pos_ < t_.size() && (t_[pos_] == '"' || t_[pos_] == '\'')) {
      if (!quoted(term.name)) return false;
    } else {
      term.name = word([](char c) { return name_char(c); });
    }
    if (term.name.empty())
      return failed("expected a metric name after '" + term.kind + ".'", name_at);
    term.metric_text = std::string(t_.substr(start, pos_ - start));
    const MetricSpec* declared = nullptr;
    bool any_name = false;
    for (const auto& m : spec->metrics) {
      if (m.name == term.name) declared = &m;
      any_name = any_name || user_named(m);
    }
    if (declared == nullptr && !any_name) {
      std::string names;
      for (const auto& m : spec->metrics) names += (names.empty() ? "" : ", ") + m.name;
      return failed(term.kind + " has no metric '" + term.name + "' (it has " + names + ")",
                    name_at);
    }
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == '{' && !label_matchers(term)) return false;
    skip_ws();
    const std::size_t op_at = pos_;
    if (!compare_op(term.op))
      return failed("expected a comparison operator after '" + term.metric_text + "'", op_at);
    skip_ws();
    const std::size_t threshold_at = pos_;
    if (!threshold(term)) return false;
    if (declared != nullptr && term.dimension != UnitDimension::kNone &&
        unit_scale(declared->unit).dimension != term.dimension) {
      return failed(
          "'" + term.threshold_text + "' is " + std::string(to_string(term.dimension)) + ", but " +
              term.metric_text + " is " +
              (declared->unit.empty() ? std::string("a plain number") : "in " + declared->unit),
          threshold_at);
    }
    return true;
  }

  bool label_matchers(MetricTerm& term) {
    ++pos_;  // '{'
    for (;;) {
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == '}') break;  // also {} and a trailing comma
      Matcher m;
      const std::size_t name_at = pos_;
      m.name = word([](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
      if (m.name.empty()) return failed("expected a label name", name_at);
      skip_ws();
      const std::size_t op_at = pos_;
      for (const char* op : {"=~", "!~", "!=", "="}) {
        if (t_.substr(pos_).rfind(op, 0) == 0) {
          m.op = op;
          break;
        }
      }
      if (m.op.empty())
        return failed("expected =, !=, =~ or !~ after label '" + m.name + "'", op_at);
      pos_ += m.op.size();
      skip_ws();
      const std::size_t value_at = pos_;
      if (pos_ == t_.size() || (t_[pos_] != '"' && t_[pos_] != '\'')) {
        return failed("expected a quoted value after '" + m.name + m.op + "'", value_at);
      }
      if (!quoted(m.value)) return false;
      if (m.op == "=~" || m.op == "!~") {
        try {
          m.re = std::make_shared<const std::regex>(m.value, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return failed(
              "label '" + m.name + "': bad regular expression '" + m.value + "': " + e.what(),
              value_at);
        }
      }
      term.matchers.push_back(std::move(m));
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < t_.size() && t_[pos_] == '}') break;
      return failed("expected ',' or '}'", pos_);
    }
    ++pos_;  // '}'
    return true;
  }

  bool compare_op(CompareOp& op) {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {">=", CompareOp::kGreaterEqual}, {"<=", CompareOp::kLessEqual}, {"==", CompareOp::kEqual},
        {"!=", CompareOp::kNotEqual},     {">", CompareOp::kGreater},    {"<", CompareOp::kLess}};
    for (const auto& [text, o] : kOps) {
      if (t_.substr(pos_, text.size()) == text) {
        op = o;
        pos_ += text.size();
        return true;
      }
    }
    return false;
  }

  bool threshold(MetricTerm& term) {
    const std::size_t start = pos_;
    std::size_t p = pos_;
    auto digits = [&] {
      const std::size_t from = p;
      while (p < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p]))) ++p;
      return p > from;
    };
    if (p < t_.size() && (t_[p] == '-' || t_[p] == '+')) ++p;
    bool any = digits();
    if (p < t_.size() && t_[p] == '.') {
      ++p;
      any = digits() || any;
    }
    if (!any)
      return failed("expected a number after '" + std::string(to_string(term.op)) + "'", start);
    // An exponent only when digits follow: no unit starts with e, but be exact anyway.
    if (p + 1 < t_.size() && (t_[p] == 'e' || t_[p] == 'E')) {
      std::size_t q = p + 1;
      if (q < t_.size() && (t_[q] == '-' || t_[q] == '+')) ++q;
      if (q < t_.size() && std::isdigit(static_cast<unsigned char>(t_[q]))) {
        p = q;
        digits();
      }
    }
    const std::string number(t_.substr(start, p - start));
    term.threshold = std::strtod(number.c_str(), nullptr);
    pos_ = p;
    const std::size_t unit_at = pos_;
    std::string unit =
        pos_ < t_.size() && t_[pos_] == '%'
            ? std::string(1, t_[pos_++])
            : word([](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
    term.threshold_text = number + unit;
    if (unit.empty()) return true;
    const UnitScale s = unit_scale(unit);
    if (s.dimension == UnitDimension::kNone) {
      return failed("unknown unit '" + unit + "' after " + number +
                        " (units: %, B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, us, ms, s, m, h, d)",
                    unit_at);
    }
    term.dimension = s.dimension;
    term.threshold *= s.factor;
    return true;
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  std::optional<std::string> error_;
};

}  // namespace

Expected<MetricExpr> parse_metric_expr(std::string_view text) { return Parser(text).run(); }

}  // namespace xj::alerts
