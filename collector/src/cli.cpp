#include "xj/collector/cli.hpp"

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "detail/user_cli.hpp"
#include "xj/collector/config.hpp"
#include "xj/collector/liveness.hpp"
#include "xj/collector/serve.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/collector/tokens.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/logging.hpp"

namespace xj {
namespace {

std::string cli_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::geteuid()));
}

// Opens the store named by the config, for the one-shot commands.
std::unique_ptr<Store> open_store_of(const CollectorConfig& cfg) {
  ::setenv("TZ", cfg.timezone.c_str(), 1);
  ::tzset();
  SqliteStoreOptions options;
  options.raw_retention_days = cfg.raw_retention_days;
  options.timezone = cfg.timezone;
  auto store = open_sqlite_store(cfg.store_path, options);
  if (!store) throw std::runtime_error(store.error());
  return std::move(store).value();
}

int token_create(Store& store, const std::string& agent, const std::string& api_name,
                 const std::string& role_text) {
  if (agent.empty() == api_name.empty()) {
    std::cerr << "token create: give exactly one of --agent ID or --api NAME\n";
    return 2;
  }
  std::optional<Role> role;
  if (!api_name.empty()) {
    role = parse_role(role_text);
    if (!role) {
      std::cerr << "token create: --role '" << role_text << "' is not viewer, operator or admin\n";
      return 2;
    }
  }
  const std::string& name = agent.empty() ? api_name : agent;
  std::string token = generate_token(role ? TokenKind::kApi : TokenKind::kAgent);
  auto id = store.create_token(name, role, token_hash(token));
  if (!id) {
    std::cerr << "token create: " << id.error() << "\n";
    return 1;
  }
  nlohmann::json detail{{"name", name}, {"kind", role ? "api" : "agent"}};
  if (role) detail["role"] = std::string(to_string(*role));
  store.audit(cli_actor(), "token.create", "token:" + std::to_string(*id), detail.dump());
  std::cerr << "Token " << *id << " for " << (role ? "API user '" : "agent '") << name << "'"
            << (role ? " (role " + std::string(to_string(*role)) + ")" : "")
            << ". It is shown only now; the collector keeps only its hash.\n";
  std::cout << token << "\n";
  return 0;
}

int token_list(Store& store) {
  std::printf("%-5s %-24s %-9s %-26s %-26s %s\n", "ID", "NAME", "ROLE", "CREATED", "LAST USED", "STATE");
  for (const auto& t : store.tokens()) {
    std::printf("%-5lld %-24s %-9s %-26s %-26s %s\n", static_cast<long long>(t.id), t.name.c_str(),
                t.role ? std::string(to_string(*t.role)).c_str() : "agent",
                format_local_time(t.created_ms).c_str(),
                t.last_used_ms > 0 ? format_local_time(t.last_used_ms).c_str() : "never",
                t.revoked ? "revoked" : "active");
  }
  return 0;
}

int token_revoke(Store& store, std::int64_t id) {
  auto done = store.revoke_token(id);
  if (!done) {
    std::cerr << "token revoke: " << done.error() << "\n";
    return 1;
  }
  if (!*done) {
    std::cerr << "token revoke: no active token with id " << id << "\n";
    return 1;
  }
  store.audit(cli_actor(), "token.revoke", "token:" + std::to_string(id), "{}");
  std::cout << "token " << id << " revoked\n";
  return 0;
}

int audit_verify(Store& store) {
  AuditVerdict v = store.verify_audit();
  if (v.ok) {
    std::cout << "audit log intact: " << v.entries << " entries, SM3 chain verified\n";
    return 0;
  }
  std::cout << "audit log TAMPERED at entry " << v.first_bad_id << ": " << v.reason << "\n";
  return 1;
}

int audit_list(Store& store, std::size_t limit) {
  for (const auto& e : store.audit_entries(0, limit)) {
    std::cout << e.id << "  " << format_local_time(e.ts_ms) << "  " << e.actor << "  " << e.action
              << "  " << e.object << "  " << e.detail << "\n";
  }
  return 0;
}

}  // namespace

int collector_main(int argc, char** argv) {
  CLI::App app{"xunjian-collector: stores agent results, tracks liveness, serves the API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("xunjian-collector ") + XJ_VERSION);
  std::string config_path = "/etc/xunjian/collector.yaml";
  auto add_config = [&](CLI::App* c) {
    c->add_option("-c,--config", config_path, "collector config file")->capture_default_str();
  };

  auto* serve = app.add_subcommand("serve", "run the collector");
  add_config(serve);
  auto* validate = app.add_subcommand("validate", "load and validate the config, then exit");
  add_config(validate);

  auto* token = app.add_subcommand("token", "agent and API tokens");
  token->require_subcommand(1);
  std::string agent, api_name, role = "viewer";
  std::int64_t revoke_id = 0;
  auto* create = token->add_subcommand("create", "create a token; it is printed once");
  add_config(create);
  create->add_option("--agent", agent, "agent id the token is for");
  create->add_option("--api", api_name, "API user or tool the token is for");
  create->add_option("--role", role, "viewer, operator or admin (API tokens)")->capture_default_str();
  auto* list = token->add_subcommand("list", "list tokens (never the tokens themselves)");
  add_config(list);
  auto* revoke = token->add_subcommand("revoke", "revoke a token by id");
  add_config(revoke);
  revoke->add_option("id", revoke_id, "token id (see token list)")->required();

  auto* audit = app.add_subcommand("audit", "the tamper-evident audit log");
  audit->require_subcommand(1);
  std::size_t limit = 100;
  auto* verify = audit->add_subcommand("verify", "check the SM3 hash chain");
  add_config(verify);
  auto* alist = audit->add_subcommand("list", "print entries");
  add_config(alist);
  alist->add_option("--limit", limit, "entries to print")->capture_default_str();

  detail::UserCommands users;
  users.add_to(app, add_config);

  CLI11_PARSE(app, argc, argv);
  if (*serve) return run_collector(config_path);
  setup_logging("warn");
  try {
    if (*validate) {
      CollectorConfig cfg = load_collector_config(config_path);
      std::cout << config_path << ": valid; listen " << cfg.http.listen << ", store " << cfg.store_path
                << ", tls " << (cfg.http.tls_cert_file.empty() ? "off" : "on") << "\n";
      return 0;
    }
    const CollectorConfig cfg = load_collector_config(config_path);
    auto store = open_store_of(cfg);
    if (users.chosen()) return users.run(*store, cfg.console, cli_actor());
    if (*create) return token_create(*store, agent, api_name, role);
    if (*list) return token_list(*store);
    if (*revoke) return token_revoke(*store, revoke_id);
    if (*verify) return audit_verify(*store);
    if (*alist) return audit_list(*store, limit);
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace xj
