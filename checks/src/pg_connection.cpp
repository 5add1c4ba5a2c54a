#include "pg_connection.hpp"

#include <poll.h>

#include <cctype>

#include "libpq_api.hpp"
#include "tcp_connect.hpp"
#include "xj/checks/postgres_check.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

std::string conninfo_value(PQconninfoOption* opts, const char* key) {
  for (auto* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == key && o->val != nullptr) return o->val;
  }
  return "";
}

std::string took(std::chrono::steady_clock::time_point started) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started + std::chrono::milliseconds(50)));
}

// libpq's defaults on Debian: the Unix socket directory /var/run/postgresql, port 5432.
std::string with_defaults(std::string host, std::string port) {
  if (host.empty()) host = "/var/run/postgresql";
  if (port.empty()) port = "5432";
  return host + ":" + port;
}

}  // namespace

void PgConnection::Closer::operator()(pg_conn* c) const { pq->PQfinish(c); }

std::string PgConnection::dsn_error(const std::string& dsn) {
  auto lib = libpq();
  if (!lib) return "";
  const LibPq& pq = **lib;
  char* err = nullptr;
  PQconninfoOption* opts = pq.PQconninfoParse(dsn.c_str(), &err);
  std::string out;
  if (opts == nullptr) {
    out = err != nullptr ? err : "cannot parse";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  }
  if (err != nullptr) pq.PQfreemem(err);
  if (opts != nullptr) pq.PQconninfoFree(opts);
  return out;
}

std::string PgConnection::target_of(const std::string& dsn) {
  auto lib = libpq();
  if (!lib) return target_without_libpq(dsn);
  const LibPq& pq = **lib;
  PQconninfoOption* opts = pq.PQconninfoParse(dsn.c_str(), nullptr);
  if (opts == nullptr) return "?";
  std::string host = conninfo_value(opts, "host");
  if (host.empty()) host = conninfo_value(opts, "hostaddr");
  std::string port = conninfo_value(opts, "port");
  pq.PQconninfoFree(opts);
  return with_defaults(host, port);
}

Expected<PgConnection> PgConnection::open(const std::string& dsn, const std::string& password,
                                          Clock::time_point deadline) {
  auto lib = libpq();
  if (!lib) return make_error(lib.error());
  const LibPq& pq = **lib;
  const auto started = Clock::now();
  // dbname first with expand_dbname=1: its conninfo is expanded, later keywords override it.
  std::vector<const char*> keys = {"dbname", "application_name"};
  std::vector<const char*> values = {dsn.c_str(), "xunjian"};
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConnection c(pq, pq.PQconnectStartParams(keys.data(), values.data(), 1));
  if (!c.conn_) return make_error("libpq cannot allocate a connection");
  if (pq.PQstatus(c.conn_.get()) == CONNECTION_BAD) {
    return make_error(condense_pg_error(pq.PQerrorMessage(c.conn_.get())));
  }
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) {
      return make_error(condense_pg_error(pq.PQerrorMessage(c.conn_.get())));
    }
    const short ev = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_fd(pq.PQsocket(c.conn_.get()), ev, deadline)) {
      return make_error("connect to " + target_of(dsn) + " timed out after " + took(started));
    }
    st = pq.PQconnectPoll(c.conn_.get());
  }
  return c;
}

Expected<SqlTable> PgConnection::query(const std::string& sql, Clock::time_point deadline) {
  const LibPq& pq = *pq_;
  pg_conn* c = conn_.get();
  const auto started = Clock::now();
  if (pq.PQsendQuery(c, sql.c_str()) == 0) {
    return make_error(condense_pg_error(pq.PQerrorMessage(c)));
  }
  auto timed_out = [&]() -> Error {
    if (PGcancel* cancel = pq.PQgetCancel(c)) {
      char buf[256];
      (void)pq.PQcancel(cancel, buf, sizeof buf);
      pq.PQfreeCancel(cancel);
    }
    return make_error("timed out after " + took(started));
  };
  while (pq.PQflush(c) == 1) {
    if (!wait_fd(pq.PQsocket(c), POLLOUT, deadline)) return timed_out();
  }
  while (pq.PQisBusy(c) != 0) {
    if (!wait_fd(pq.PQsocket(c), POLLIN, deadline)) return timed_out();
    if (pq.PQconsumeInput(c) == 0) return make_error(condense_pg_error(pq.PQerrorMessage(c)));
  }
  SqlTable out;
  std::string error;
  while (PGresult* res = pq.PQgetResult(c)) {
    const ExecStatusType st = pq.PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
      out = SqlTable{};
      const int cols = pq.PQnfields(res), rows = pq.PQntuples(res);
      for (int j = 0; j < cols; ++j) out.columns.emplace_back(pq.PQfname(res, j));
      out.rows.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        auto& row = out.rows.emplace_back();
        for (int j = 0; j < cols; ++j) {
          if (pq.PQgetisnull(res, i, j)) row.emplace_back(std::nullopt);
          else row.emplace_back(std::string(pq.PQgetvalue(res, i, j),
                                            static_cast<std::size_t>(pq.PQgetlength(res, i, j))));
        }
      }
    } else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY && error.empty()) {
      // The first line says what went wrong; LINE/HINT lines after it would make a summary
      // of several lines.
      error = pq.PQresultErrorMessage(res);
      error = error.substr(0, error.find('\n'));
    }
    pq.PQclear(res);
    // Results after the first may still be on the way; they come quickly once the first did.
    while (pq.PQisBusy(c) != 0) {
      if (!wait_fd(pq.PQsocket(c), POLLIN, deadline)) return timed_out();
      if (pq.PQconsumeInput(c) == 0) return make_error(condense_pg_error(pq.PQerrorMessage(c)));
    }
  }
  if (!error.empty()) return make_error(error);
  return out;
}


namespace {

// %XX decoding of URI parts, as libpq does; a malformed escape is kept as written.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// postgresql://[user[:password]@][host][:port][,...][/dbname][?param=value&...]
std::string uri_target(std::string_view rest) {
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) query = rest.substr(q + 1);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string hosts, ports;
  bool first = true;
  while (true) {
    std::string_view item = authority.substr(0, authority.find(','));
    // After a [v6 address] the port follows its ']'; otherwise after the last ':'.
    std::string_view host = item, port;
    if (item.starts_with('[')) {
      const auto close = item.find(']');
      host = item.substr(1, close == std::string_view::npos ? close : close - 1);
      if (close != std::string_view::npos && close + 1 < item.size() && item[close + 1] == ':') {
        port = item.substr(close + 2);
      }
    } else if (auto colon = item.rfind(':'); colon != std::string_view::npos) {
      host = item.substr(0, colon);
      port = item.substr(colon + 1);
    }
    if (!first) {
      hosts += ',';
      ports += ',';
    }
    first = false;
    hosts += percent_decode(host);
    ports += percent_decode(port);
    if (item.size() == authority.size()) break;
    authority.remove_prefix(item.size() + 1);
  }
  std::string hostaddr;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos) {
      const std::string key = percent_decode(pair.substr(0, eq));
      const std::string value = percent_decode(pair.substr(eq + 1));
      if (key == "host") hosts = value;
      if (key == "hostaddr") hostaddr = value;
      if (key == "port") ports = value;
    }
    if (pair.size() == query.size()) break;
    query.remove_prefix(pair.size() + 1);
  }
  return with_defaults(hosts.empty() ? hostaddr : hosts, ports);
}

// key = value pairs; a value is 'quoted' or runs to the next blank; \ escapes one character.
std::string keyword_target(std::string_view s) {
  std::string host, hostaddr, port;
  std::size_t i = 0;
  auto blank = [&] { return i < s.size() && std::isspace(static_cast<unsigned char>(s[i])); };
  while (i < s.size()) {
    while (blank()) ++i;
    const std::size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const std::string_view key = s.substr(key_start, i - key_start);
    while (blank()) ++i;
    if (i >= s.size() || s[i] != '=') break;  // libpq rejects it; dsn_error says why
    ++i;
    while (blank()) ++i;
    std::string value;
    const bool quoted = i < s.size() && s[i] == '\'';
    if (quoted) ++i;
    while (i < s.size() &&
           (quoted ? s[i] != '\'' : !std::isspace(static_cast<unsigned char>(s[i])))) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      value += s[i++];
    }
    if (quoted) ++i;
    if (key == "host") host = value;
    if (key == "hostaddr") hostaddr = value;
    if (key == "port") port = value;
  }
  return with_defaults(host.empty() ? hostaddr : host, port);
}

}  // namespace

std::string target_without_libpq(const std::string& dsn) {
  for (std::string_view prefix : {"postgresql://", "postgres://"}) {
    if (std::string_view(dsn).starts_with(prefix)) {
      return uri_target(std::string_view(dsn).substr(prefix.size()));
    }
  }
  return keyword_target(dsn);
}

}  // namespace xj
