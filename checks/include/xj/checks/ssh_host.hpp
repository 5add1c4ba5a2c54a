// An agentless target reached over SSH (libssh2): the connection settings, and SshHost, the
// HostAccess the target's checks read through. One SSH session per round: `open_session()`
// connects, verifies the host key against known_hosts and authenticates; every read of the
// round is one exec channel on that session; `close_session()` ends it. Library xj_ssh (only
// the collector links it; the agent does not carry libssh2).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "xj/checks/host_access.hpp"

namespace xj {

struct SshOptions {
  std::string name;  // the target's id, for messages
  std::string host;
  int port = 22;
  std::string user;
  std::string key_file;    // private key (OpenSSH or PEM format)
  std::string passphrase;  // of the key, from passphrase_file; may be empty
  std::optional<std::string> password;  // only when configured explicitly (password_file)
  std::string known_hosts;              // OpenSSH known_hosts file
  bool strict_host_key = true;          // false: an unknown host key is accepted (a changed one never)
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect + handshake + authentication
  std::chrono::milliseconds command_timeout{30'000};  // each command, within the check's own timeout
};

// Why a session could not be opened; decides the status of the target's `ssh` result.
enum class SshFailure {
  kUnreachable,  // name, connect, handshake (refused, timed out, not an SSH server)
  kHostKey,      // unknown or changed host key: critical, never silently accepted
  kAuth,         // the server refused the key or password
  kLocal,        // our side: key file unreadable, known_hosts unreadable
};

struct SshError {
  std::string message;
  SshFailure failure = SshFailure::kUnreachable;
};

// What the session learned about the server, for the `ssh` result.
struct SshSessionInfo {
  std::string host_key_type;         // "ssh-ed25519"
  std::string host_key_fingerprint;  // "SHA256:..." as ssh-keygen -l prints it
  std::string auth_method;           // "publickey" or "password"
  bool host_key_known = true;        // false: accepted unknown with strict_host_key off
  std::chrono::milliseconds connect_time{0};
};

class SshSession;

class SshHost : public HostAccess {
 public:
  explicit SshHost(SshOptions options);
  ~SshHost() override;
  SshHost(const SshHost&) = delete;
  SshHost& operator=(const SshHost&) = delete;

  const SshOptions& options() const { return options_; }

  // Opens the round's session (closing any previous one). Bounded by connect_timeout.
  Expected<SshSessionInfo, SshError> open_session();
  void close_session();

  std::string describe() const override;
  Expected<std::string> read_file(const std::string& path, const RunContext& ctx) override;
  Expected<int> cpu_count(const RunContext& ctx) override;
  Expected<std::vector<Expected<FsStats>>> statvfs(const std::vector<std::string>& paths,
                                                   const RunContext& ctx) override;
  Expected<GlobScan> scan_glob(const std::string& pattern, const RunContext& ctx) override;
  Expected<ProcessSnapshot> processes(const RunContext& ctx) override;
  Expected<HostCommandOutcome> run_command(const std::vector<std::string>& argv,
                                           const std::map<std::string, std::string>& env,
                                           const std::string& cwd, const RunContext& ctx) override;
  Expected<LogFileNow> stat_log(const std::string& path, const RunContext& ctx) override;
  Expected<std::string> read_log(const std::string& path, std::uint64_t inode, std::uint64_t offset,
                                 std::size_t n, const RunContext& ctx) override;
  Expected<std::optional<std::string>> find_log_inode(const std::string& path, std::uint64_t dev,
                                                      std::uint64_t inode,
                                                      const RunContext& ctx) override;

  // Runs one shell command line on the target (the login shell interprets it).
  Expected<HostCommandOutcome> exec(const std::string& command_line, const RunContext& ctx,
                                    std::size_t max_output = 16 * 1024 * 1024);

 private:
  SshOptions options_;
  std::unique_ptr<SshSession> session_;
};

// Single-quotes a word for a POSIX shell: abc -> 'abc', it's -> 'it'\''s'.
std::string shell_quote(const std::string& word);

// Pure parsers of the commands SshHost runs (tested on fixture text).
// `stat -f -c '%S %b %f %a %c %d'` lines, one per path, each prefixed "ok " or "err ".
std::vector<Expected<FsStats>> parse_statvfs_lines(const std::string& text, std::size_t expected);
// Lines "f\t<mtime>\t<size>\t<path>" and "e\t<message>" and "u\t<message>" (unreadable).
GlobScan parse_glob_lines(const std::string& text);
// The process dump SshHost::processes has the target print: sections introduced by a line
// starting with \036 (T clock ticks, O own pids, B /proc/stat, W /etc/passwd, then per process
// P pid, S status, C cmdline with NUL and newline sent as \001 and \002, E exe, F open fds).
// `user` is the SSH user: its session processes (sshd: USER...) above the dump are its own.
ProcessSnapshot parse_process_dump(const std::string& text, const std::string& user);
// What SshHost::stat_log has the target print: "<dev> <inode> <size> <file type>\n" and then
// the file's first bytes as they are.
Expected<LogFileNow> parse_log_stat(const std::string& text);

}  // namespace xj
