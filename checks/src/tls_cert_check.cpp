#include "xj/checks/tls_cert_check.hpp"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "xj/checks/http_check.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

namespace {

struct Endpoint {
  std::string host;
  int port = 0;
  std::string text;
};

// "host:port", "[::1]:443"; nullopt when malformed.
std::optional<Endpoint> parse_endpoint(const std::string& s) {
  Endpoint e;
  e.text = s;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return {};
    e.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || s.find(':') != colon) return {};
    e.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return {};
  e.port = std::stoi(port);
  if (e.port < 1 || e.port > 65535) return {};
  return e;
}

std::string format_day(std::int64_t epoch_s) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_seconds{seconds{epoch_s}})};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

double days_left(std::int64_t not_after) {
  return cert_days_left(std::chrono::sys_seconds{std::chrono::seconds{not_after}},
                        std::chrono::system_clock::now());
}

class TlsCertCheck : public Check {
 public:
  TlsCertCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "tls_cert"),
        files_(o.list("files")),
        sni_(o.str("sni")),
        check_hostname_(o.boolean("check_hostname")),
        self_signed_warn_(o.boolean("self_signed_warn")) {
    for (const auto& s : o.list("endpoints")) endpoints_.push_back(*parse_endpoint(s));
    const std::string st = o.str("starttls");
    if (st == "smtp") starttls_ = StartTls::kSmtp;
    if (st == "postgres") starttls_ = StartTls::kPostgres;
    auto days = [&](const char* key) -> std::optional<Range> {
      const double d = static_cast<double>(o.duration(key).count()) / 86'400'000.0;
      if (d <= 0) return std::nullopt;
      return Range::below(d);
    };
    warn_ = days("warn");
    crit_ = days("crit");
  }

  Result run(const RunContext& ctx) override;

 private:
  // Metrics and details of one target's chain; `host` set for endpoints (name check).
  void report(Result& r, const std::string& target, const std::vector<CertInfo>& chain,
              const std::string& host, std::vector<std::string>& problems) const;

  std::vector<Endpoint> endpoints_;
  std::vector<std::string> files_;
  std::string sni_;
  StartTls starttls_ = StartTls::kNone;
  bool check_hostname_, self_signed_warn_;
  std::optional<Range> warn_, crit_;
};

void TlsCertCheck::report(Result& r, const std::string& target, const std::vector<CertInfo>& chain,
                          const std::string& host, std::vector<std::string>& problems) const {
  const CertInfo& leaf = chain.front();
  const Labels labels{{"target", target}};
  const double leaf_days = days_left(leaf.not_after);
  const auto earliest = std::min_element(
      chain.begin(), chain.end(),
      [](const CertInfo& a, const CertInfo& b) { return a.not_after < b.not_after; });
  const double chain_days = days_left(earliest->not_after);
  r.metrics.push_back({"days_left", leaf_days, "d", labels, warn_, crit_});
  r.metrics.push_back({"chain_days_left", chain_days, "d", labels, warn_, crit_});
  nlohmann::json d = {{"target", target},
                      {"subject", utf8_clip(leaf.subject)},
                      {"issuer", utf8_clip(leaf.issuer)},
                      {"sans", leaf.sans},
                      {"not_after", format_day(leaf.not_after)},
                      {"key_type", leaf.key_type},
                      {"signature", leaf.signature},
                      {"self_signed", leaf.self_signed},
                      {"chain", nlohmann::json::array()}};
  for (const auto& c : chain) {
    d["chain"].push_back(
        {{"subject", utf8_clip(c.subject)}, {"not_after", format_day(c.not_after)}});
  }
  char buf[200];
  if (leaf_days < 0) {
    std::snprintf(buf, sizeof buf, "%s: expired %.0f days ago (%s)", target.c_str(),
                  std::ceil(-leaf_days), format_day(leaf.not_after).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s: expires in %.0f days (%s)", target.c_str(),
                  std::floor(leaf_days), format_day(leaf.not_after).c_str());
  }
  std::string line = buf;
  if (earliest != chain.begin() && earliest->not_after < leaf.not_after) {
    std::snprintf(buf, sizeof buf, ", chain certificate %s expires first, in %.0f days",
                  utf8_clip(earliest->subject, 80).c_str(), std::floor(chain_days));
    line += buf;
  }
  const Status days_status =
      worst(r.metrics[r.metrics.size() - 2].evaluate(), r.metrics.back().evaluate());
  if (!host.empty()) {
    const bool match = certificate_matches_host(leaf, host);
    d["hostname_match"] = match;
    if (check_hostname_) {
      r.metrics.push_back({"hostname_match", match ? 1.0 : 0.0, "", labels, {}, Range::below(1)});
      if (!match) problems.push_back(target + ": certificate is not valid for " + host);
    }
  }
  if (leaf.self_signed) {
    std::optional<Range> warn;
    if (self_signed_warn_) {
      warn = Range::above(0);
      problems.push_back(target + ": self-signed");
    }
    r.metrics.push_back({"self_signed", 1, "", labels, warn, {}});
  }
  if (days_status != Status::kOk || problems.empty()) r.details["lines"].push_back(line);
  if (days_status != Status::kOk) problems.push_back(line);
  r.details["certificates"].push_back(std::move(d));
}

Result TlsCertCheck::run(const RunContext& ctx) {
  Result r = make_result();
  r.details = {{"certificates", nlohmann::json::array()}, {"lines", nlohmann::json::array()}};
  std::vector<std::string> problems;
  int targets = 0;
  bool failed = false;
  for (const auto& ep : endpoints_) {
    if (ctx.expired()) return unknown("tls_cert: no time left before " + ep.text);
    const std::string sni = sni_.empty() ? ep.host : sni_;
    auto chain = fetch_certificates(ep.host, ep.port, sni, starttls_, ctx.deadline);
    if (!chain) {
      problems.push_back(chain.error());
      failed = true;
      continue;
    }
    ++targets;
    report(r, ep.text, *chain, sni, problems);
  }
  for (const auto& pattern : files_) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    std::vector<std::string> paths(g.gl_pathv, g.gl_pathv + (rc == 0 ? g.gl_pathc : 0));
    globfree(&g);
    if (paths.empty()) {
      problems.push_back(pattern + ": no such file");
      failed = true;
      continue;
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      if (!in) {
        problems.push_back(path + ": cannot read");
        failed = true;
        continue;
      }
      auto chain = parse_certificates(ss.str());
      if (!chain) {
        problems.push_back(path + ": " + chain.error());
        failed = true;
        continue;
      }
      ++targets;
      report(r, path, *chain, sni_, problems);
    }
  }
  r.status = r.metrics_status();
  // A certificate we were told to watch and cannot see is as bad as an expired one.
  if (failed) r.status = Status::kCritical;
  std::string summary;
  if (problems.empty()) {
    summary = r.details["lines"].size() == 1 ? r.details["lines"][0].get<std::string>()
                                             : std::to_string(targets) + " certificates ok";
    if (r.details["lines"].size() > 1) {
      // The earliest expiry is the one worth reading.
      const Metric* soonest = nullptr;
      for (const auto& m : r.metrics) {
        if (m.name == "chain_days_left" && (soonest == nullptr || m.value < soonest->value))
          soonest = &m;
      }
      char buf[160];
      std::snprintf(buf, sizeof buf, "; earliest %s in %.0f days",
                    soonest->labels.at("target").c_str(), std::floor(soonest->value));
      summary += buf;
    }
  } else {
    for (const auto& p : problems) summary += (summary.empty() ? "" : "; ") + p;
  }
  r.details.erase("lines");
  r.summary = summary;
  return r;
}

}  // namespace

CheckSpec tls_cert_check_spec() {
  CheckSpec s;
  s.kind = "tls_cert";
  s.description =
      "Certificate expiry of TLS endpoints and certificate files. An endpoint (`host:port`, "
      "SNI = the host unless `sni` says otherwise, optionally after STARTTLS for SMTP or "
      "PostgreSQL) is asked for its chain without verifying it; a file may hold PEM (several "
      "certificates, keys skipped) or DER, and `files` may use globs. For each target: days "
      "left of the leaf and of the earliest-expiring certificate in the chain, subject, issuer, "
      "SANs, key type (SM2 国密 certificates included) and whether it is self-signed; for "
      "endpoints (and files when `sni` is given) whether the leaf is valid for the host name "
      "(critical when not). A target that cannot be read or reached is critical.";
  s.keys = {
      {"endpoints", KeyType::kStringList, "",
       "`host:port` to connect to, e.g. `[api.example:443]`"},
      {"files", KeyType::kStringList, "", "certificate files or glob patterns (PEM or DER)"},
      {"sni", KeyType::kString, "", "server name to send and check; default: the endpoint's host"},
      {"starttls", KeyType::kString, "", "`smtp` or `postgres`: upgrade the connection first"},
      {"warn", KeyType::kDuration, "30d", "a certificate expiring within this is a warning"},
      {"crit", KeyType::kDuration, "7d", "a certificate expiring within this is critical"},
      {"check_hostname", KeyType::kBool, "true", "a leaf not valid for the host name is critical"},
      {"self_signed_warn", KeyType::kBool, "false", "a self-signed leaf is a warning"},
  };
  s.metrics = {
      {"days_left", "d", "days until the leaf expires, per target (label `target`)"},
      {"chain_days_left", "d", "days until the earliest-expiring certificate of the chain expires"},
      {"hostname_match", "", "1 when the leaf is valid for the host name, else 0 (critical)"},
      {"self_signed", "", "1 when the leaf is self-signed (absent otherwise)"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    if (o.list("endpoints").empty() && o.list("files").empty()) {
      o.fail("endpoints", "give endpoints and/or files");
    }
    for (const auto& e : o.list("endpoints")) {
      if (!parse_endpoint(e)) o.fail("endpoints", "'" + e + "' is not host:port");
    }
    const std::string st = o.str("starttls");
    if (!st.empty() && st != "smtp" && st != "postgres") {
      o.fail("starttls", "'" + st + "' is not smtp or postgres");
    }
    return std::make_unique<TlsCertCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) {
    auto e = o.list("endpoints");
    if (!e.empty()) return "tls_cert:" + e[0];
    auto f = o.list("files");
    return "tls_cert:" + (f.empty() ? std::string() : f[0]);
  };
  return s;
}

}  // namespace xj
