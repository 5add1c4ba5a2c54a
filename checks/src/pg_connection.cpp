#include "pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

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

}  // namespace

void PgConnection::Closer::operator()(pg_conn* c) const { PQfinish(c); }

std::string PgConnection::dsn_error(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  std::string out;
  if (opts == nullptr) {
    out = err != nullptr ? err : "cannot parse";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  }
  if (err != nullptr) PQfreemem(err);
  if (opts != nullptr) PQconninfoFree(opts);
  return out;
}

std::string PgConnection::target_of(const std::string& dsn) {
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), nullptr);
  if (opts == nullptr) return "?";
  std::string host = conninfo_value(opts, "host");
  if (host.empty()) host = conninfo_value(opts, "hostaddr");
  std::string port = conninfo_value(opts, "port");
  PQconninfoFree(opts);
  // libpq's defaults on Debian: the Unix socket directory /var/run/postgresql, port 5432.
  if (host.empty()) host = "/var/run/postgresql";
  if (port.empty()) port = "5432";
  return host + ":" + port;
}

Expected<PgConnection> PgConnection::open(const std::string& dsn, const std::string& password,
                                          Clock::time_point deadline) {
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
  PgConnection c(PQconnectStartParams(keys.data(), values.data(), 1));
  if (!c.conn_) return make_error("libpq cannot allocate a connection");
  if (PQstatus(c.conn_.get()) == CONNECTION_BAD) {
    return make_error(condense_pg_error(PQerrorMessage(c.conn_.get())));
  }
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) {
      return make_error(condense_pg_error(PQerrorMessage(c.conn_.get())));
    }
    const short ev = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_fd(PQsocket(c.conn_.get()), ev, deadline)) {
      return make_error("connect to " + target_of(dsn) + " timed out after " + took(started));
    }
    st = PQconnectPoll(c.conn_.get());
  }
  return c;
}

Expected<SqlTable> PgConnection::query(const std::string& sql, Clock::time_point deadline) {
  pg_conn* c = conn_.get();
  const auto started = Clock::now();
  if (PQsendQuery(c, sql.c_str()) == 0) {
    return make_error(condense_pg_error(PQerrorMessage(c)));
  }
  auto timed_out = [&]() -> Error {
    if (PGcancel* cancel = PQgetCancel(c)) {
      char buf[256];
      (void)PQcancel(cancel, buf, sizeof buf);
      PQfreeCancel(cancel);
    }
    return make_error("timed out after " + took(started));
  };
  while (PQflush(c) == 1) {
    if (!wait_fd(PQsocket(c), POLLOUT, deadline)) return timed_out();
  }
  while (PQisBusy(c) != 0) {
    if (!wait_fd(PQsocket(c), POLLIN, deadline)) return timed_out();
    if (PQconsumeInput(c) == 0) return make_error(condense_pg_error(PQerrorMessage(c)));
  }
  SqlTable out;
  std::string error;
  while (PGresult* res = PQgetResult(c)) {
    const ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
      out = SqlTable{};
      const int cols = PQnfields(res), rows = PQntuples(res);
      for (int j = 0; j < cols; ++j) out.columns.emplace_back(PQfname(res, j));
      out.rows.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        auto& row = out.rows.emplace_back();
        for (int j = 0; j < cols; ++j) {
          if (PQgetisnull(res, i, j)) row.emplace_back(std::nullopt);
          else row.emplace_back(std::string(PQgetvalue(res, i, j),
                                            static_cast<std::size_t>(PQgetlength(res, i, j))));
        }
      }
    } else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY && error.empty()) {
      // The first line says what went wrong; LINE/HINT lines after it would make a summary
      // of several lines.
      error = PQresultErrorMessage(res);
      error = error.substr(0, error.find('\n'));
    }
    PQclear(res);
    // Results after the first may still be on the way; they come quickly once the first did.
    while (PQisBusy(c) != 0) {
      if (!wait_fd(PQsocket(c), POLLIN, deadline)) return timed_out();
      if (PQconsumeInput(c) == 0) return make_error(condense_pg_error(PQerrorMessage(c)));
    }
  }
  if (!error.empty()) return make_error(error);
  return out;
}

}  // namespace xj
