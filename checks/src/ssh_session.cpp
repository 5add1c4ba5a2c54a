#include "ssh_session.hpp"

#include <libssh2.h>
#include <openssl/evp.h>
#include <poll.h>

#include <algorithm>
#include <csignal>
#include <mutex>

#include "tcp_connect.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

using Clock = SshSession::Clock;

constexpr int kTimedOut = -100000;  // not a libssh2 code

std::string host_key_type_name(int type) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
    default: return "unknown key type";
  }
}

// The known_hosts type bits for the presented key, so a host known with another key type is
// "not found" for this one rather than compared byte by byte against a different kind of key.
int known_host_key_mask(int type) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

// "SHA256:" + unpadded base64 of the key's SHA-256, as ssh-keygen -l and ssh print it.
std::string sha256_fingerprint(const char* hash32) {
  unsigned char out[64] = {};
  int n = EVP_EncodeBlock(out, reinterpret_cast<const unsigned char*>(hash32), 32);
  std::string b64(reinterpret_cast<char*>(out), static_cast<std::size_t>(std::max(n, 0)));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

int signal_number(const std::string& name) {
  static const std::pair<const char*, int> kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
      {"ABRT", SIGABRT}, {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
      {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"BUS", SIGBUS}};
  for (const auto& [n, s] : kSignals) {
    if (name == n) return s;
  }
  return 0;
}

void init_libssh2() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

}  // namespace

struct SshSession::Impl {
  explicit Impl(UniqueFd f) : fd(std::move(f)) {}
  ~Impl() {
    if (session != nullptr) {
      // A polite goodbye if the peer takes it at once; never wait long for it.
      const auto until = Clock::now() + std::chrono::milliseconds(500);
      call(until, [&] { return libssh2_session_disconnect(session, "round done"); });
      libssh2_session_free(session);
    }
  }

  // Waits until the socket is ready the way libssh2 last wanted it, or the deadline.
  void wait(Clock::time_point deadline) const {
    const int dir = libssh2_session_block_directions(session);
    short events = 0;
    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND) events |= POLLIN;
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
    if (events == 0) {  // libssh2 did not say: look again shortly
      events = POLLIN;
      deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(20));
    }
    wait_fd(fd.get(), events, deadline);
  }

  // Repeats a non-blocking libssh2 call until it stops saying EAGAIN, or kTimedOut.
  template <typename F>
  int call(Clock::time_point deadline, F f) const {
    for (;;) {
      int rc = f();
      if (rc != LIBSSH2_ERROR_EAGAIN) return rc;
      if (Clock::now() >= deadline) return kTimedOut;
      wait(deadline);
    }
  }

  std::string last_error() const {
    char* msg = nullptr;
    int len = 0;
    libssh2_session_last_error(session, &msg, &len, 0);
    return msg != nullptr && len > 0 ? std::string(msg, static_cast<std::size_t>(len))
                                     : std::string("unknown libssh2 error");
  }

  UniqueFd fd;
  LIBSSH2_SESSION* session = nullptr;
};

SshSession::SshSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SshSession::~SshSession() = default;

Expected<std::unique_ptr<SshSession>, SshError> SshSession::open(const SshOptions& o,
                                                                 SshSessionInfo& info) {
  init_libssh2();
  const auto started = Clock::now();
  const auto deadline = started + o.connect_timeout;
  const std::string where = host_port(o.host, o.port);
  auto fail = [&](SshFailure f, std::string msg) {
    return SshError{std::move(msg), f};
  };
  auto timed_out = [&](const std::string& step) {
    return fail(SshFailure::kUnreachable, "ssh " + where + ": " + step + " timed out after " +
                                              format_duration(o.connect_timeout) +
                                              " (connect_timeout)");
  };

  auto endpoints = resolve_tcp(o.host, o.port, deadline);
  if (!endpoints) return fail(SshFailure::kUnreachable, "ssh " + where + ": " + endpoints.error());
  std::string connect_error;
  std::unique_ptr<Impl> m;
  for (const auto& e : *endpoints) {
    auto fd = connect_tcp(e, deadline);
    if (fd) {
      m = std::make_unique<Impl>(std::move(fd).value());
      break;
    }
    connect_error = e.text + ": " + fd.error();
  }
  if (!m) {
    return fail(SshFailure::kUnreachable, "ssh " + where + ": cannot connect: " + connect_error);
  }
  m->session = libssh2_session_init();
  if (m->session == nullptr) return fail(SshFailure::kLocal, "ssh " + where + ": libssh2_session_init failed");
  libssh2_session_set_blocking(m->session, 0);

  int rc = m->call(deadline, [&] { return libssh2_session_handshake(m->session, m->fd.get()); });
  if (rc == kTimedOut) return timed_out("SSH handshake");
  if (rc != 0) {
    return fail(SshFailure::kUnreachable,
                "ssh " + where + ": SSH handshake failed: " + m->last_error());
  }

  // The host key, before anything is sent that the server could use.
  std::size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(m->session, &key_len, &key_type);
  const char* hash = libssh2_hostkey_hash(m->session, LIBSSH2_HOSTKEY_HASH_SHA256);
  if (key == nullptr || hash == nullptr) {
    return fail(SshFailure::kHostKey, "ssh " + where + ": the server presented no host key");
  }
  info.host_key_type = host_key_type_name(key_type);
  info.host_key_fingerprint = sha256_fingerprint(hash);
  const std::string presented = info.host_key_type + " " + info.host_key_fingerprint;
  const std::string known_name = o.port == 22 ? o.host : "[" + o.host + "]:" + std::to_string(o.port);
  {
    LIBSSH2_KNOWNHOSTS* kh = libssh2_knownhost_init(m->session);
    if (kh == nullptr) return fail(SshFailure::kLocal, "ssh " + where + ": libssh2_knownhost_init failed");
    int read = libssh2_knownhost_readfile(kh, o.known_hosts.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    int check = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
    if (read >= 0) {
      libssh2_knownhost* found = nullptr;
      check = libssh2_knownhost_checkp(
          kh, o.host.c_str(), o.port, key, key_len,
          LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | known_host_key_mask(key_type),
          &found);
    }
    libssh2_knownhost_free(kh);
    const std::string file_said =
        read < 0 ? "known_hosts " + o.known_hosts + " cannot be read (" + m->last_error() + ")"
                 : "known_hosts " + o.known_hosts;
    if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
      return fail(SshFailure::kHostKey,
                  "ssh " + where + ": host key CHANGED: the server presents " + presented +
                      ", not the key " + file_said + " holds for " + known_name +
                      " (a man in the middle, or a reinstalled host: verify the fingerprint, then "
                      "replace the line with ssh-keygen -R '" + known_name + "')");
    }
    if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH) {
      if (o.strict_host_key) {
        return fail(SshFailure::kHostKey,
                    "ssh " + where + ": host key unknown: the server presents " + presented +
                        ", which " + file_said + " does not hold for " + known_name +
                        " (verify the fingerprint with the host's administrator, then add it, "
                        "e.g. ssh-keyscan -p " + std::to_string(o.port) + " " + o.host + ")");
      }
      info.host_key_known = false;
    }
  }

  const auto user_len = static_cast<unsigned int>(o.user.size());
  if (o.password) {
    info.auth_method = "password";
    rc = m->call(deadline, [&] {
      return libssh2_userauth_password_ex(m->session, o.user.c_str(), user_len,
                                          o.password->c_str(),
                                          static_cast<unsigned int>(o.password->size()), nullptr);
    });
  } else {
    info.auth_method = "publickey";
    rc = m->call(deadline, [&] {
      return libssh2_userauth_publickey_fromfile_ex(m->session, o.user.c_str(), user_len, nullptr,
                                                    o.key_file.c_str(), o.passphrase.c_str());
    });
  }
  if (rc == kTimedOut) return timed_out("authentication");
  if (rc == LIBSSH2_ERROR_FILE) {
    return fail(SshFailure::kLocal, "ssh " + where + ": cannot use key_file " + o.key_file + ": " +
                                        m->last_error());
  }
  if (rc != 0) {
    return fail(SshFailure::kAuth, "ssh " + where + ": authentication as '" + o.user + "' by " +
                                       info.auth_method + " refused: " + m->last_error());
  }
  info.connect_time = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return std::unique_ptr<SshSession>(new SshSession(std::move(m)));
}

Expected<HostCommandOutcome> SshSession::exec(const std::string& command, Clock::time_point deadline,
                                              std::size_t max_output) {
  if (broken_) return make_error("the SSH session was lost earlier in this round");
  Impl& m = *impl_;
  LIBSSH2_CHANNEL* ch = nullptr;
  int rc = m.call(deadline, [&] {
    ch = libssh2_channel_open_session(m.session);
    if (ch != nullptr) return 0;
    return libssh2_session_last_errno(m.session);
  });
  if (rc == kTimedOut) {
    broken_ = true;
    return make_error("opening an SSH channel timed out");
  }
  if (ch == nullptr) {
    broken_ = true;
    return make_error("cannot open an SSH channel: " + m.last_error());
  }
  // Closes and frees the channel; a channel that will not close breaks the session.
  // libssh2 (1.10) closes a channel only when the server closes it too, and sshd does so when
  // the command has exited: a channel still open at the deadline is left to the session's
  // end, and the session is not used again (the next command gets a new one).
  bool abandoned = false;
  auto close = [&](Clock::time_point until) {
    int c = m.call(until, [&] { return libssh2_channel_close(ch); });
    if (c == 0) c = m.call(until, [&] { return libssh2_channel_wait_closed(ch); });
    if (c == kTimedOut) abandoned = broken_ = true;
  };
  auto release = [&](Clock::time_point until) {
    if (abandoned) return;  // freed with the session
    if (m.call(until, [&] { return libssh2_channel_free(ch); }) == kTimedOut) broken_ = true;
  };
  rc = m.call(deadline, [&] { return libssh2_channel_exec(ch, command.c_str()); });
  if (rc != 0) {
    std::string why = rc == kTimedOut ? "timed out" : m.last_error();
    const auto grace = Clock::now() + std::chrono::seconds(1);
    close(grace);
    release(grace);
    if (rc == kTimedOut) broken_ = true;
    return make_error("cannot start the command: " + why);
  }

  HostCommandOutcome out;
  char buf[16 * 1024];
  for (;;) {
    bool progressed = false;
    for (int stream : {0, SSH_EXTENDED_DATA_STDERR}) {
      for (;;) {
        ssize_t n = libssh2_channel_read_ex(ch, stream, buf, sizeof buf);
        if (n > 0) {
          progressed = true;
          std::string& into = stream == 0 ? out.out : out.err;
          const std::size_t cap = stream == 0 ? max_output : 64 * 1024;
          const std::size_t room = cap > into.size() ? cap - into.size() : 0;
          into.append(buf, std::min(room, static_cast<std::size_t>(n)));
          if (static_cast<std::size_t>(n) > room && stream == 0) out.out_truncated = true;
          continue;
        }
        if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) break;
        std::string why = m.last_error();
        broken_ = true;
        libssh2_channel_free(ch);
        return make_error("reading the command's output failed: " + why);
      }
    }
    if (libssh2_channel_eof(ch) != 0) break;
    if (!progressed) {
      if (Clock::now() >= deadline) {
        out.timed_out = true;
        break;
      }
      m.wait(deadline);
    }
  }
  // Exit status and signal arrive before the close; a timed-out command gets a moment only.
  const auto until = out.timed_out ? Clock::now() + std::chrono::seconds(1)
                                   : std::max(deadline, Clock::now() + std::chrono::seconds(1));
  close(until);
  if (!out.timed_out) {
    char* signame = nullptr;
    std::size_t signame_len = 0;
    libssh2_channel_get_exit_signal(ch, &signame, &signame_len, nullptr, nullptr, nullptr, nullptr);
    if (signame != nullptr && signame_len > 0) {
      out.signal = signal_number(std::string(signame, signame_len));
      out.exited = false;
    } else {
      out.exit_code = libssh2_channel_get_exit_status(ch);
      out.exited = true;
    }
    if (signame != nullptr) libssh2_free(m.session, signame);
  }
  release(until);
  return out;
}

}  // namespace xj
