// Report benchmark (issue 7). Two steps, each its own process so the second's peak memory is
// the report's alone:
//   report_bench make STORE [--hosts 500] [--checks 30] [--days 31]
//     a collector store for March 2026 holding what 1-minute results of every check would
//     have left in it — daily rollups (count 1440 a day), seconds in status per local day,
//     status changes (first results and outages), alert history, audit — written straight
//     with SQL in the store's own schema. Hourly rollups and raw rows are not written: the
//     reports never read them (they read daily rollups and state changes only).
//   report_bench run STORE OUT_DIR [--pdf]
//     times building the monthly model, the HTML, the Markdown and the JSON; with --pdf the
//     PDF through Chromium separately. Prints key=value lines and the peak RSS (getrusage).
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "xj/collector/sqlite_report_source.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/reports/pdf.hpp"
#include "xj/reports/render.hpp"
#include "xj/reports/report_model.hpp"

namespace {

constexpr std::int64_t kDay = 86'400'000, kMin = 60'000;
constexpr std::int64_t kMarch = 1'772'294'400'000;  // 2026-03-01 00:00 +08:00

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "report_bench: " << sql << ": " << (err ? err : "") << "\n";
    std::exit(1);
  }
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
      std::cerr << "report_bench: " << sqlite3_errmsg(db) << "\n";
      std::exit(1);
    }
  }
  ~Stmt() { sqlite3_finalize(s); }
  template <typename... A>
  std::int64_t run(const A&... a) {
    int i = 1;
    (bind(i++, a), ...);
    if (sqlite3_step(s) != SQLITE_DONE) {
      std::cerr << "report_bench: insert failed\n";
      std::exit(1);
    }
    sqlite3_reset(s);
    return sqlite3_last_insert_rowid(sqlite3_db_handle(s));
  }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  void bind(int i, int v) { sqlite3_bind_int64(s, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(s, i, v); }
  void bind(int i, const std::string& v) { sqlite3_bind_text(s, i, v.c_str(), -1, SQLITE_TRANSIENT); }
};

struct CheckDef {
  std::string id, kind, metric, labels;
};

std::vector<CheckDef> checks_of(int n) {
  std::vector<CheckDef> c{{"cpu", "cpu", "usage_pct", "{}"}, {"memory", "memory", "available_pct", "{}"}};
  for (const char* m : {"/", "/data", "/log"}) c.push_back({std::string("disk:") + m, "disk", "used_pct", std::string("{\"mount\":\"") + m + "\"}"});
  c.push_back({"tls_cert", "tls_cert", "days_left", "{\"target\":\"api.example:443\"}"});
  c.push_back({"licence", "licence", "days_left", "{}"});
  for (int i = 0; static_cast<int>(c.size()) < n; ++i) {
    if (i % 3 == 0) c.push_back({"process:svc" + std::to_string(i), "process", "count", "{}"});
    if (i % 3 == 1) c.push_back({"port:" + std::to_string(8000 + i), "port", "up", "{}"});
    if (i % 3 == 2) c.push_back({"http:api" + std::to_string(i), "http", "latency_ms", "{}"});
  }
  c.resize(static_cast<std::size_t>(n));
  return c;
}

int make(const std::string& path, int hosts, int nchecks, int days) {
  std::filesystem::remove(path);
  {
    xj::SqliteStoreOptions o;
    o.durable = false;
    auto s = xj::open_sqlite_store(path, o);  // the schema, exactly as the collector makes it
    if (!s) {
      std::cerr << s.error() << "\n";
      return 1;
    }
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  exec(db, "PRAGMA synchronous=OFF; BEGIN");
  Stmt host(db, "INSERT INTO hosts(id, hostname, version, labels, first_seen, last_contact) VALUES(?,?,?,?,?,?)");
  Stmt check(db, "INSERT INTO checks(hid, check_id, kind, status, summary, since, last_ts, metrics) VALUES(?,?,?,0,'',?,?,'[]')");
  Stmt series(db, "INSERT INTO series(cid, metric, labels, unit) VALUES(?,?,?,'')");
  Stmt daily(db, "INSERT INTO rollup_daily(bucket, sid, min, max, sum, count, last, last_ts) VALUES(?,?,?,?,?,1440,?,?)");
  Stmt status(db, "INSERT INTO status_daily(bucket, cid, ok_ms, warning_ms, critical_ms, unknown_ms) VALUES(?,?,?,0,?,0)");
  Stmt change(db, "INSERT INTO status_changes(cid, ts, from_status, to_status, summary) VALUES(?,?,?,?,'')");
  Stmt alert(db, "INSERT INTO alerts VALUES(?, 'status', 'status', ?, ?, '{}', 'resolved', 2, 0, 0, 0, '', '[]', 0, 0)");
  Stmt history(db, "INSERT INTO alert_history(fingerprint, since, state, severity, ts, summary) VALUES(?,?,'firing',2,?,'')");
  const auto defs = checks_of(nchecks);
  std::int64_t rows = 0;
  for (int h = 0; h < hosts; ++h) {
    char id[16];
    std::snprintf(id, sizeof id, "host-%03d", h);
    const std::int64_t hid = host.run(std::string(id), std::string(id), std::string("0.1.0"),
                                      "{\"system\":\"sys-" + std::to_string(h % 5) + "\"}", kMarch, kMarch + days * kDay);
    for (std::size_t c = 0; c < defs.size(); ++c) {
      const auto& d = defs[c];
      const std::int64_t cid = check.run(hid, d.id, d.kind, kMarch, kMarch + days * kDay);
      const std::int64_t sid = series.run(cid, d.metric, d.labels);
      change.run(cid, kMarch, std::int64_t{0}, std::int64_t{0});  // first result (from set to NULL below)
      // One outage a week on one availability check per host: 5 to 60 minutes.
      const bool outages = d.kind == "process" && c == 7;
      for (int day = 0; day < days; ++day) {
        const std::int64_t bucket = kMarch + day * kDay;
        const double base = d.metric == "used_pct" ? 40 + (h % 7) * 5 + 0.2 * day
                            : d.metric == "days_left" ? 120 - day - (h % 100)
                            : d.metric == "available_pct" ? 55 : 20 + (h % 10);
        daily.run(bucket, sid, base - 1, base + 1, base * 1440, base, bucket + kDay - kMin);
        std::int64_t down = 0;
        if (outages && day % 7 == h % 7) {
          down = (5 + (h * 13 + day) % 56) * kMin;
          const std::int64_t at = bucket + (h % 20) * 3'600'000;
          change.run(cid, at, 0, 2);
          change.run(cid, at + down, 2, 0);
          const std::string fp = std::string(id) + "-" + std::to_string(day);
          alert.run(fp, std::string(id), d.id);
          history.run(fp, at, at + kMin);
        }
        status.run(bucket, cid, kDay - down, down);
        rows += 2;
      }
    }
  }
  exec(db, "UPDATE status_changes SET from_status = NULL WHERE from_status = to_status");
  exec(db, ("UPDATE rollup_state SET rolled_to = " + std::to_string(kMarch + days * kDay) + ", partial_sid = 0").c_str());
  exec(db, "COMMIT");
  sqlite3_close(db);
  std::cout << "store=" << path << " hosts=" << hosts << " checks=" << nchecks << " days=" << days
            << " daily_rows=" << rows << "\n";
  return 0;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int run(const std::string& path, const std::string& out, bool pdf) {
  std::filesystem::create_directories(out);
  auto t0 = std::chrono::steady_clock::now();
  auto src = xj::open_sqlite_report_source(path, "Asia/Shanghai");
  if (!src) {
    std::cerr << src.error() << "\n";
    return 1;
  }
  xj::reports::ContractConfig contract;
  contract.customer = "bench";
  for (int i = 0; i < 5; ++i) contract.systems.push_back({"sys-" + std::to_string(i), {{"system", "sys-" + std::to_string(i)}}});
  const xj::reports::UtcOffset off = [&](std::int64_t t) { return (*src)->utc_offset_ms(t); };
  const auto period = xj::reports::month_of(2026, 3, off);
  const auto report = xj::reports::build_report(**src, contract, period, {kMarch + 31 * kDay + 8 * 3'600'000});
  const double model_s = seconds_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  auto html = xj::reports::render_html(report);
  if (!html) {
    std::cerr << html.error() << "\n";
    return 1;
  }
  const auto html_path = std::filesystem::path(out) / xj::reports::report_file_name(report, "html");
  std::ofstream(html_path) << *html;
  const double html_s = seconds_since(t1);
  auto t2 = std::chrono::steady_clock::now();
  auto md = xj::reports::render_markdown(report, "https://collector.example/r.html");
  const std::string json = xj::reports::to_json(report).dump();
  const double md_json_s = seconds_since(t2);
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  std::cout << "hosts=" << report.hosts.size() << " checks=" << report.checks_total << " items=" << report.items.size()
            << " abnormal=" << report.abnormal_count() << "\n"
            << "model_s=" << model_s << "\nhtml_s=" << html_s << "\nmodel_plus_html_s=" << model_s + html_s
            << "\nmd_json_s=" << md_json_s << "\nhtml_bytes=" << html->size() << "\nmd_bytes=" << (md ? md->size() : 0)
            << "\njson_bytes=" << json.size() << "\npeak_rss_kib=" << self.ru_maxrss << "\n";
  if (pdf) {
    auto t3 = std::chrono::steady_clock::now();
    auto r = xj::reports::html_to_pdf(html_path.string(), (std::filesystem::path(out) / "report.pdf").string());
    if (!r) {
      std::cerr << r.error() << "\n";
      return 1;
    }
    rusage kids{};
    getrusage(RUSAGE_CHILDREN, &kids);
    std::cout << "pdf_s=" << seconds_since(t3) << "\npdf_bytes=" << std::filesystem::file_size(std::filesystem::path(out) / "report.pdf")
              << "\nchromium_peak_rss_kib=" << kids.ru_maxrss << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  auto opt = [&](const char* name, int def) {
    for (int i = 2; i + 1 < argc; ++i) {
      if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
    }
    return def;
  };
  if (mode == "make" && argc >= 3) return make(argv[2], opt("--hosts", 500), opt("--checks", 30), opt("--days", 31));
  if (mode == "run" && argc >= 4) return run(argv[2], argv[3], argc > 4 && std::string(argv[4]) == "--pdf");
  std::cerr << "usage: report_bench make STORE [--hosts N] [--checks N] [--days N]\n"
               "       report_bench run STORE OUT_DIR [--pdf]\n";
  return 2;
}
