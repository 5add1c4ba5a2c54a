#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace xj {

namespace {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor; closes it once.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// One output pipe of the child: what was kept, and whether EOF was seen.
struct Stream {
  Fd fd;
  std::string* sink = nullptr;
  std::size_t cap = 0;
  bool* truncated = nullptr;
  bool open() const { return fd.get() >= 0; }

  // Reads what is available now (the fd is non-blocking); closes on EOF or error. Bounded, so
  // a grandchild that keeps writing cannot hold us here.
  void drain() {
    char buf[16 * 1024];
    for (int rounds = 0; open() && rounds < 64; ++rounds) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        const std::size_t room = cap - std::min(cap, sink->size());
        const std::size_t keep = std::min(room, static_cast<std::size_t>(n));
        sink->append(buf, keep);
        if (keep < static_cast<std::size_t>(n) && truncated != nullptr) *truncated = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fd.reset();  // EOF or a read error: nothing more will come
    }
  }
};

// Waits up to `wait` for output on the open streams and reads it.
void pump(Stream& out, Stream& err, std::chrono::milliseconds wait) {
  pollfd fds[2];
  nfds_t n = 0;
  for (Stream* s : {&out, &err}) {
    if (s->open()) fds[n++] = pollfd{s->fd.get(), POLLIN, 0};
  }
  const int ms = static_cast<int>(std::max<std::int64_t>(0, wait.count()));
  if (n == 0) {
    ::poll(nullptr, 0, ms);
    return;
  }
  if (::poll(fds, n, ms) > 0) {
    out.drain();
    err.drain();
  }
}

// True once the child has ended; leaves it a zombie (WNOWAIT) so its pid, and with it the
// process group id, cannot be reused before the group is killed.
bool has_ended(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;
  }
  return info.si_pid == pid;
}

// Spawns argv with the file actions and attributes described in child_process.hpp.
Expected<pid_t> spawn(const ChildSpec& spec, int out_w, int err_w) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (const auto& [k, v] : spec.env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w, 1);
  posix_spawn_file_actions_adddup2(&fa, err_w, 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  // Descriptors of the agent (sockets, the spool database) must not leak into plugins.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Own process group, so a timeout kills the plugin and whatever it started. Signal mask and
  // dispositions back to default: the agent blocks or ignores some (SIGPIPE, SIGHUP).
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  pid_t pid = -1;
  // posix_spawn (clone + exec in glibc) is safe in a multi-threaded process, unlike a
  // hand-written fork that would have to stay async-signal-safe until exec.
  const int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::string why = std::strerror(rc);
    if (!spec.cwd.empty() && rc == ENOENT && ::access(spec.cwd.c_str(), X_OK) != 0) {
      why = "cwd " + spec.cwd + ": " + why;
    }
    return make_error("cannot run " + spec.argv[0] + ": " + why);
  }
  return pid;
}

}  // namespace

Expected<ChildOutcome> run_child(const ChildSpec& spec) {
  if (spec.argv.empty()) return make_error("cannot run an empty command");
  ChildOutcome oc;
  Stream out{Fd(), &oc.out, spec.stdout_cap, &oc.out_truncated};
  Stream err{Fd(), &oc.err, spec.stderr_cap, nullptr};
  Fd out_w, err_w;
  for (auto [stream, write_end] : {std::pair{&out, &out_w}, std::pair{&err, &err_w}}) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return make_error("cannot run " + spec.argv[0] + ": pipe: " + std::strerror(errno));
    }
    stream->fd.reset(p[0]);
    write_end->reset(p[1]);
    // An agent started with 0, 1 or 2 closed would get them back from pipe2, and the child's
    // dup2 onto 0..2 would then shuffle the pipes; keep every end at 3 or above.
    for (Fd* f : {&stream->fd, write_end}) {
      if (f->get() < 3) f->reset(::fcntl(f->get(), F_DUPFD_CLOEXEC, 3));
      if (f->get() < 0)
        return make_error("cannot run " + spec.argv[0] + ": " + std::strerror(errno));
    }
  }

  auto pid = spawn(spec, out_w.get(), err_w.get());
  if (!pid) return Error{pid.error()};
  out_w.reset();  // the child holds the write ends now; EOF comes when it closes them
  err_w.reset();
  oc.pid = *pid;
  for (Stream* s : {&out, &err}) {
    ::fcntl(s->fd.get(), F_SETFL, ::fcntl(s->fd.get(), F_GETFL) | O_NONBLOCK);
  }

  while (!has_ended(oc.pid)) {
    if (spec.cancelled != nullptr && spec.cancelled->load()) {
      oc.cancelled = true;
      break;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(spec.deadline - Clock::now());
    if (left.count() <= 0) {
      oc.timed_out = true;
      break;
    }
    // Pipes wake us on output and on EOF; the tick catches exits while a grandchild still
    // holds the pipes, and cancellation.
    const auto tick = std::chrono::milliseconds(out.open() || err.open() ? 100 : 10);
    pump(out, err, std::min(left, tick));
  }

  if (oc.timed_out || oc.cancelled) {
    ::kill(-oc.pid, SIGTERM);
    const auto give_up = Clock::now() + spec.kill_grace;
    while (!has_ended(oc.pid) && Clock::now() < give_up) {
      pump(out, err, std::chrono::milliseconds(10));
    }
    // The leader is alive or a zombie here, so the group id is still ours to kill.
    ::kill(-oc.pid, SIGKILL);
  }

  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = ::waitpid(oc.pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != oc.pid) {
    // Only when someone set SIGCHLD to SIG_IGN (children are then reaped by the kernel).
    return make_error("cannot collect the exit status of " + spec.argv[0] + ": " +
                      std::strerror(errno));
  }
  out.drain();  // output written just before exit is still in the pipe
  err.drain();
  if (WIFEXITED(status)) {
    oc.exited = true;
    oc.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    oc.signal = WTERMSIG(status);
  }
  return oc;
}

}  // namespace xj
