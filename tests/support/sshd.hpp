// A real OpenSSH server for the agentless-inspection tests (Debian openssh-server): started
// by the test on 127.0.0.1 on a free port, with its own sshd_config, a host key generated for
// the test, a user key in its own authorized_keys and a known_hosts file holding the host key.
// It lets in the account the tests run as (root in CI: PermitRootLogin; anyone else: sshd
// running unprivileged can only log in its own user). Killed when the fixture goes out of scope.
#pragma once

#include <pwd.h>

#include <catch2/catch.hpp>
#include <memory>

#include "processes.hpp"

namespace xj::itest {

inline const std::string kSshd = "/usr/sbin/sshd";

inline std::string current_user() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

// Runs a shell command line; REQUIREs exit 0, output in `dir/sh.log`.
inline void sh(const std::string& cmd, const fs::path& dir) {
  const std::string line = cmd + " >>'" + (dir / "sh.log").string() + "' 2>&1";
  INFO(line << "\n" << slurp(dir / "sh.log"));
  REQUIRE(std::system(line.c_str()) == 0);
}

class SshdServer {
 public:
  explicit SshdServer(const fs::path& dir) : dir_(dir), port_(free_port()), user_(current_user()) {
    if (!fs::exists(kSshd)) FAIL(kSshd << " is missing: install openssh-server (scripts/deps.sh --test)");
    fs::create_directories(dir_);
    keygen("host_ed25519");
    keygen("user_key");
    keygen("stranger_key");  // a key the server does not accept
    fs::copy_file(dir_ / "user_key.pub", dir_ / "authorized_keys", fs::copy_options::overwrite_existing);
    fs::permissions(dir_ / "authorized_keys", fs::perms::owner_read | fs::perms::owner_write);
    write_file(known_hosts(), known_hosts_line(dir_ / "host_ed25519.pub"));
    write_file(dir_ / "sshd_config",
               "Port " + std::to_string(port_) + "\n"
               "ListenAddress 127.0.0.1\n"
               "HostKey " + (dir_ / "host_ed25519").string() + "\n"
               "PidFile " + (dir_ / "sshd.pid").string() + "\n"
               "AuthorizedKeysFile " + (dir_ / "authorized_keys").string() + "\n"
               "UsePAM no\n"
               "PasswordAuthentication no\n"
               "KbdInteractiveAuthentication no\n"
               "StrictModes no\n"
               "PermitRootLogin prohibit-password\n"
               "LogLevel VERBOSE\n");
    // sshd started as root wants its privilege separation directory.
    if (::getuid() == 0) fs::create_directories("/run/sshd");
    child_ = std::make_unique<Child>(kSshd, std::vector<std::string>{"-D", "-e", "-f", (dir_ / "sshd_config").string()},
                                     dir_ / "sshd.log");
    bool up = wait_until(15s, [&] {
      return child_->running() && slurp(dir_ / "sshd.log").find("Server listening") != std::string::npos;
    });
    if (!up) FAIL("sshd did not start; log:\n" << slurp(dir_ / "sshd.log"));
  }

  std::uint16_t port() const { return port_; }
  const std::string& user() const { return user_; }
  fs::path user_key() const { return dir_ / "user_key"; }
  fs::path stranger_key() const { return dir_ / "stranger_key"; }
  fs::path known_hosts() const { return dir_ / "known_hosts"; }
  fs::path log() const { return dir_ / "sshd.log"; }
  // The host key's fingerprint as ssh-keygen prints it ("SHA256:...").
  std::string fingerprint() const {
    const std::string out = (dir_ / "fingerprint").string();
    const std::string cmd = "ssh-keygen -l -f '" + (dir_ / "host_ed25519.pub").string() + "' > '" + out + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::string text = slurp(out);
    auto at = text.find("SHA256:");
    REQUIRE(at != std::string::npos);
    return text.substr(at, text.find(' ', at) - at);
  }
  // A known_hosts line for this server's address with the public key in `pub`.
  std::string known_hosts_line(const fs::path& pub) const {
    std::string key = slurp(pub);
    key = key.substr(0, key.find(' ', key.find(' ') + 1));  // "ssh-ed25519 AAAA..."
    return "[127.0.0.1]:" + std::to_string(port_) + " " + key + "\n";
  }
  // Another host's key, to fake a host key change.
  fs::path make_other_host_key() {
    keygen("other_host_ed25519");
    return dir_ / "other_host_ed25519.pub";
  }

 private:
  void keygen(const std::string& name) {
    fs::remove(dir_ / name);
    fs::remove(dir_ / (name + ".pub"));
    sh("ssh-keygen -q -t ed25519 -N '' -C xj-test -f '" + (dir_ / name).string() + "'", dir_);
  }

  fs::path dir_;
  std::uint16_t port_;
  std::string user_;
  std::unique_ptr<Child> child_;
};

}  // namespace xj::itest
