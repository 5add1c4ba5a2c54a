#include "detail/user_cli.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "xj/collector/console_auth.hpp"
#include "xj/collector/liveness.hpp"

namespace xj::detail {
namespace {

// One line typed on the terminal without echo; nullopt without a terminal.
std::optional<std::string> read_hidden(int tty, const std::string& prompt) {
  if (::write(tty, prompt.data(), prompt.size()) < 0) return std::nullopt;
  termios old{};
  if (::tcgetattr(tty, &old) != 0) return std::nullopt;
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  if (::tcsetattr(tty, TCSAFLUSH, &quiet) != 0) return std::nullopt;
  std::string line;
  char c = 0;
  while (::read(tty, &c, 1) == 1 && c != '\n') line += c;
  ::tcsetattr(tty, TCSAFLUSH, &old);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The new password: the first line of --password-file, or typed twice on the terminal.
Expected<std::string> new_password_text(const std::string& file, const std::string& user) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return make_error("cannot read --password-file " + file);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return make_error("--password-file " + file + ": the first line is empty");
    return line;
  }
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) return make_error("no terminal to type the password on: use --password-file FILE");
  auto first = read_hidden(tty, "New password for " + user + ": ");
  auto second = first ? read_hidden(tty, "Type it again: ") : std::nullopt;
  ::close(tty);
  if (!first || !second) return make_error("cannot read the password from the terminal");
  if (*first != *second) return make_error("the two passwords differ; nothing changed");
  return *first;
}

int fail(const std::string& command, const std::string& message, int code = 1) {
  std::cerr << "user " << command << ": " << message << "\n";
  return code;
}

}  // namespace

void UserCommands::add_to(CLI::App& app, const std::function<void(CLI::App*)>& add_config) {
  auto* user = app.add_subcommand("user", "console users (viewer, operator, admin)");
  user->require_subcommand(1);
  create = user->add_subcommand("create",
                                "create a console user; the password is typed or read from a file");
  create->add_option("name", name, "user name");
  create->add_option("--admin", admin, "create this user as an admin (the first admin)");
  create->add_option("--role", role, "viewer, operator or admin")->capture_default_str();
  create->add_option("--password-file", password_file,
                     "read the password from the file's first line");
  passwd = user->add_subcommand("passwd", "set a user's password (ends their sessions)");
  passwd->add_option("name", name, "user name")->required();
  passwd->add_option("--password-file", password_file,
                     "read the password from the file's first line");
  list = user->add_subcommand("list", "list users with role, state and lock");
  unlock = user->add_subcommand("unlock", "lift a user's login lock");
  unlock->add_option("name", name, "user name")->required();
  disable = user->add_subcommand("disable", "disable a user (ends their sessions)");
  disable->add_option("name", name, "user name")->required();
  enable = user->add_subcommand("enable", "enable a disabled user");
  enable->add_option("name", name, "user name")->required();
  for (auto* c : {create, passwd, list, unlock, disable, enable}) add_config(c);
}

bool UserCommands::chosen() const {
  for (auto* c : {create, passwd, list, unlock, disable, enable}) {
    if (c != nullptr && c->parsed()) return true;
  }
  return false;
}

int UserCommands::run(Store& store, const ConsoleConfig& console, const std::string& actor) const {
  ConsoleAuth auth(store, console, false);
  if (create->parsed()) {
    if (admin.empty() == name.empty())
      return fail("create", "give the user name, or --admin NAME", 2);
    const std::string who = admin.empty() ? name : admin;
    auto r = admin.empty() ? parse_role(role) : std::optional<Role>(Role::kAdmin);
    if (!r) return fail("create", "--role '" + role + "' is not viewer, operator or admin", 2);
    if (auto e = user_name_error(who); !e.empty()) return fail("create", e, 2);
    if (store.user(who)) return fail("create", "user '" + who + "' exists already");
    auto text = new_password_text(password_file, who);
    if (!text) return fail("create", text.error());
    auto hash = auth.new_password(who, *text);
    if (!hash) return fail("create", hash.error(), 2);
    UserRow row;
    row.name = who;
    row.role = *r;
    row.password = *hash;
    auto created = store.create_user(row, actor);
    if (!created) return fail("create", created.error());
    std::cout << "user '" << who << "' created (role " << to_string(*r) << ")\n";
    return 0;
  }
  if (list->parsed()) {
    std::printf("%-24s %-9s %-9s %-26s %s\n", "NAME", "ROLE", "STATE", "UPDATED", "LOCKED UNTIL");
    for (const auto& u : store.users()) {
      const LoginFailures f = store.login_failures("user:" + u.name);
      std::printf("%-24s %-9s %-9s %-26s %s\n", u.name.c_str(),
                  std::string(to_string(u.role)).c_str(), u.disabled ? "disabled" : "enabled",
                  format_local_time(u.updated_ms).c_str(),
                  is_locked(f, auth.now()) ? format_local_time(f.locked_until_ms).c_str() : "-");
    }
    return 0;
  }
  const char* command = passwd->parsed()    ? "passwd"
                        : unlock->parsed()  ? "unlock"
                        : disable->parsed() ? "disable"
                                            : "enable";
  if (!store.user(name)) return fail(command, "no user '" + name + "'");
  if (unlock->parsed()) {
    if (auto r = auth.unlock(name); !r) return fail(command, r.error());
    store.audit(actor, "user.unlock", "user:" + name, "{}");
    std::cout << "user '" << name << "' unlocked\n";
    return 0;
  }
  UserUpdate update;
  if (passwd->parsed()) {
    auto text = new_password_text(password_file, name);
    if (!text) return fail(command, text.error());
    auto hash = auth.new_password(name, *text);
    if (!hash) return fail(command, hash.error(), 2);
    update.password = *hash;
  } else {
    update.disabled = disable->parsed();
  }
  const std::string action = passwd->parsed() ? "user.password" : std::string("user.") + command;
  auto changed = store.update_user(name, update, actor, action);
  if (!changed) return fail(command, changed.error());
  std::cout << "user '" << name
            << "': " << (passwd->parsed() ? "password changed" : command + std::string("d"))
            << ", sessions ended\n";
  return 0;
}

}  // namespace xj::detail
