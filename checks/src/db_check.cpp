#include "xj/checks/db_check.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "xj/checks/io_util.hpp"

namespace xj {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Metric names come from site SQL: keep them to [a-z0-9_] so every consumer can use them.
std::string metric_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
  }
  return out;
}

}  // namespace

int SqlTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (iequals(columns[i], name)) return static_cast<int>(i);
  }
  return -1;
}

std::optional<std::string> SqlTable::text(std::size_t row, std::string_view name) const {
  int c = column(name);
  if (c < 0 || row >= rows.size() || static_cast<std::size_t>(c) >= rows[row].size()) {
    return std::nullopt;
  }
  return rows[row][static_cast<std::size_t>(c)];
}

std::optional<double> SqlTable::number(std::size_t row, std::string_view name) const {
  auto t = text(row, name);
  if (!t) return std::nullopt;
  return parse_sql_number(*t);
}

std::optional<double> parse_sql_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  for (auto [word, value] : {std::pair{"t", 1.0}, {"true", 1.0}, {"yes", 1.0}, {"on", 1.0},
                             {"f", 0.0}, {"false", 0.0}, {"no", 0.0}, {"off", 0.0}}) {
    if (iequals(text, word)) return value;
  }
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

Expected<SqlStatements> parse_sql_statements(std::string_view text) {
  SqlStatements out;
  std::string name, body;
  int line_no = 0, name_line = 0;
  auto finish = [&]() -> std::optional<Error> {
    if (name.empty()) return std::nullopt;
    std::string_view sql = trim(body);
    if (!sql.empty() && sql.back() == ';') sql = trim(sql.substr(0, sql.size() - 1));
    if (sql.empty()) {
      return make_error("line " + std::to_string(name_line) + ": statement '" + name +
                        "' is empty");
    }
    if (!out.emplace(name, std::string(sql)).second) {
      return make_error("line " + std::to_string(name_line) + ": statement '" + name +
                        "' is defined twice");
    }
    return std::nullopt;
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    ++line_no;
    std::string_view t = trim(line);
    if (t.starts_with("-- name:")) {
      if (auto e = finish()) return *e;
      name = std::string(trim(t.substr(8)));
      name_line = line_no;
      body.clear();
      if (!valid_name(name)) {
        return make_error("line " + std::to_string(line_no) + ": statement name '" + name +
                          "' must be lower-case letters, digits and _");
      }
    } else if (!name.empty()) {
      body.append(line).push_back('\n');
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (auto e = finish()) return *e;
  if (out.empty()) return make_error("no statements (each starts with a line '-- name: <name>')");
  return out;
}

Expected<SqlStatements> load_dialect_sql(const std::string& dialect,
                                         const std::filesystem::path& override_dir) {
  std::string_view builtin = builtin_sql_file(dialect);
  if (builtin.empty()) return make_error("no built-in SQL for dialect '" + dialect + "'");
  auto base = parse_sql_statements(builtin);
  if (!base) return make_error("built-in " + dialect + ".sql: " + base.error());
  SqlStatements out = *base;
  if (override_dir.empty()) return out;
  const auto path = override_dir / (dialect + ".sql");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  auto text = read_text_file(path);
  if (!text) return make_error(text.error());
  auto site = parse_sql_statements(*text);
  if (!site) return make_error(path.string() + ": " + site.error());
  for (auto& [name, sql] : *site) {
    auto it = out.find(name);
    if (it == out.end()) {
      std::string known;
      for (const auto& [n, _] : out) known += (known.empty() ? "" : ", ") + n;
      return make_error(path.string() + ": statement '" + name + "' is not one of the " +
                        dialect + " statements (" + known + ")");
    }
    it->second = sql;
  }
  return out;
}

Expected<std::vector<Metric>> custom_query_metrics(const CustomQuery& q, const SqlTable& t) {
  std::vector<Metric> out;
  auto make = [&](std::string name, double v, Labels labels) {
    out.push_back(Metric{std::move(name), v, "", std::move(labels), q.warn, q.crit});
  };
  const std::string base = metric_name(q.name);
  auto first_is_text = [&] {
    for (const auto& row : t.rows) {
      if (!row.empty() && row[0] && !parse_sql_number(*row[0])) return true;
    }
    return false;
  };
  if (t.columns.size() == 2 && first_is_text()) {
    for (const auto& row : t.rows) {
      if (!row[0] || !row[1]) continue;
      auto v = parse_sql_number(*row[1]);
      if (!v) {
        return make_error("query '" + q.name + "': value '" + *row[1] + "' for '" + *row[0] +
                          "' is not a number");
      }
      make(base, *v, {{"name", *row[0]}});
    }
    return out;
  }
  if (t.rows.size() != 1) {
    return make_error("query '" + q.name + "' returned " + std::to_string(t.rows.size()) +
                      " rows; it must return rows of (name, value) or one row of numbers");
  }
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const auto& cell = t.rows[0][i];
    if (!cell) continue;
    auto v = parse_sql_number(*cell);
    if (!v) {
      return make_error("query '" + q.name + "': column '" + t.columns[i] + "' value '" + *cell +
                        "' is not a number");
    }
    make(t.columns.size() == 1 ? base : base + "_" + metric_name(t.columns[i]), *v, {});
  }
  return out;
}

Expected<std::string> read_password(const std::string& file, const std::string& env_name) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return make_error("cannot read password_file " + file);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
  }
  if (!env_name.empty()) {
    const char* v = std::getenv(env_name.c_str());
    if (v == nullptr) return make_error("environment variable " + env_name + " is not set");
    return std::string(v);
  }
  return std::string();
}

std::optional<double> CounterMemory::delta(const std::string& key, double value) {
  auto it = last_.find(key);
  std::optional<double> d;
  if (it != last_.end() && value >= it->second) d = value - it->second;
  last_[key] = value;
  return d;
}

void CounterMemory::forget_missing(const std::vector<std::string>& present) {
  std::set<std::string> keep(present.begin(), present.end());
  std::erase_if(last_, [&](const auto& kv) { return !keep.contains(kv.first); });
}

std::vector<KeySpec> db_common_keys() {
  return {
      {"password_file", KeyType::kString, "",
       "file whose first line is the password (keep it mode 0600)"},
      {"password_env", KeyType::kString, "",
       "environment variable holding the password, when there is no password_file"},
      {"connect_timeout", KeyType::kDuration, "5s",
       "give up connecting after this long (never later than the check's timeout)"},
      {"queries", KeyType::kMap, "",
       "custom queries, name: SQL; rows of (name, value) or one row of numeric columns become "
       "metrics `<name>` / `<name>_<column>`"},
      {"query_warn", KeyType::kMap, "",
       "warning thresholds of custom queries, name: threshold (above, or a Nagios range)"},
      {"query_crit", KeyType::kMap, "",
       "critical thresholds of custom queries, name: threshold (above, or a Nagios range)"},
      {"sql_dir", KeyType::kString, "",
       "directory with site copies of `<dialect>.sql`; statements there replace the built-in "
       "ones of the same name"},
  };
}

std::vector<CustomQuery> load_custom_queries(const CheckOptions& o) {
  std::vector<CustomQuery> out;
  auto queries = o.map("queries");
  for (const auto& [name, sql] : queries) {
    if (!valid_name(metric_name(name)) || name.empty()) o.fail("queries", "bad query name");
    if (trim(sql).empty()) o.fail("queries", "query '" + name + "' has no SQL");
    out.push_back(CustomQuery{name, sql, std::nullopt, std::nullopt});
  }
  for (const char* key : {"query_warn", "query_crit"}) {
    for (const auto& [name, text] : o.map(key)) {
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& q) { return q.name == name; });
      if (it == out.end()) o.fail(key, "no query named '" + name + "' in queries");
      auto r = parse_threshold(text, Direction::kHigherIsWorse, ValueUnit::kNumber);
      if (!r) o.fail(key, "'" + name + "': " + r.error());
      (std::string_view(key) == "query_warn" ? it->warn : it->crit) = *r;
    }
  }
  return out;
}

double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

std::string describe_alerts(const std::vector<Metric>& metrics) {
  std::vector<std::pair<Status, std::string>> items;
  for (const auto& m : metrics) {
    Status s = m.evaluate();
    if (s == Status::kOk) continue;
    std::ostringstream t;
    t << m.name;
    for (const auto& [k, v] : m.labels) t << (k == m.labels.begin()->first ? "{" : ",") << k << "=" << v;
    if (!m.labels.empty()) t << "}";
    t << "=" << round_to(m.value, 2) << m.unit;
    const auto& range = s == Status::kCritical ? m.crit : m.warn;
    t << " (" << (s == Status::kCritical ? "crit " : "warn ") << range->str() << ")";
    items.emplace_back(s, t.str());
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first == Status::kCritical &&
                                                             b.first != Status::kCritical; });
  std::string out;
  for (const auto& [s, text] : items) {
    out += (out.empty() ? "" : "; ") + std::string(to_string(s)) + ": " + text;
  }
  return out;
}

}  // namespace xj
