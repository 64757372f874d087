#include "train/launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace msprune::train {

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("cannot open a socket to pick a port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw Error(std::string("cannot pick a free port: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::string> own_args_without(const std::vector<std::string>& drop) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  if (!in) throw Error("cannot read /proc/self/cmdline to re-run this command");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> argv;
  for (size_t s = 0; s < all.size();) {
    size_t e = all.find('\0', s);
    if (e == std::string::npos) e = all.size();
    argv.push_back(all.substr(s, e - s));
    s = e + 1;
  }
  std::vector<std::string> out;
  for (size_t i = 1; i < argv.size(); ++i) {  // argv[0] is the program
    bool skip = false;
    for (const auto& d : drop) {
      if (argv[i] == d) {
        skip = true;
        ++i;  // its value
        break;
      }
      if (argv[i].rfind(d + "=", 0) == 0) {
        skip = true;
        break;
      }
    }
    if (!skip) out.push_back(argv[i]);
  }
  return out;
}

namespace {

// The workers, for the signal handler: a SIGINT, SIGTERM or SIGHUP sent to
// the launcher alone (a job scheduler, `kill`) is passed on to every worker,
// so that none is left training behind it; the launcher then reports them as
// it does any other exit.
constexpr int kMaxWorkers = 256;
volatile sig_atomic_t g_workers[kMaxWorkers];
volatile sig_atomic_t g_nworkers = 0;

extern "C" void forward_signal(int sig) {
  for (int i = 0; i < g_nworkers; ++i)
    if (g_workers[i] > 0) ::kill(pid_t(g_workers[i]), sig);
}

std::string describe_status(int st) {
  if (WIFEXITED(st)) return "exited with status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(st)) + " (" +
                              strsignal(WTERMSIG(st)) + ")";
  return "stopped abnormally";
}

}  // namespace

LaunchResult launch_local(int nproc, const std::string& exe, const std::vector<std::string>& args,
                          const std::string& master_addr, int master_port, std::chrono::milliseconds grace) {
  if (nproc < 1 || nproc > 256) throw Error("--nproc must be in 1..256, got " + std::to_string(nproc));
  // The children's environment: ours, without any rendezvous variables, plus
  // each rank's own.
  std::vector<std::string> base;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool ours = false;
    for (const char* k : {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="})
      if (kv.rfind(k, 0) == 0) ours = true;
    if (!ours) base.push_back(kv);
  }
  std::vector<pid_t> pids(size_t(nproc), 0);
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  auto kill_all = [&](int sig) {
    for (pid_t p : pids)
      if (p > 0) ::kill(p, sig);
  };
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> env = base;
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    env.push_back("WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("MASTER_ADDR=" + master_addr);
    env.push_back("MASTER_PORT=" + std::to_string(master_port));
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> all{exe};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (r > 0 && devnull >= 0) posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      kill_all(SIGTERM);
      for (pid_t p : pids)
        if (p > 0) ::waitpid(p, nullptr, 0);
      if (devnull >= 0) ::close(devnull);
      throw Error("cannot start worker rank " + std::to_string(r) + " (" + exe + "): " + std::strerror(rc));
    }
    pids[size_t(r)] = pid;
    g_workers[r] = sig_atomic_t(pid);
    g_nworkers = r + 1;
  }
  if (devnull >= 0) ::close(devnull);
  struct sigaction sa {}, old_int{}, old_term{}, old_hup{};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  ::sigaction(SIGHUP, &sa, &old_hup);

  LaunchResult res;
  int left = nproc;
  bool failing = false;
  auto deadline = std::chrono::steady_clock::now();
  bool terminated = false;
  while (left > 0) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, failing ? WNOHANG : 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p == 0) {  // failing, nobody exited yet: wait a little, then enforce the grace period
      if (!terminated && std::chrono::steady_clock::now() >= deadline) {
        kill_all(SIGTERM);
        terminated = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      } else if (terminated && std::chrono::steady_clock::now() >= deadline) {
        kill_all(SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    int rank = -1;
    for (int r = 0; r < nproc; ++r)
      if (pids[size_t(r)] == p) rank = r;
    if (rank < 0) continue;
    pids[size_t(rank)] = 0;
    g_workers[rank] = 0;
    --left;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok && !failing) {
      failing = true;
      deadline = std::chrono::steady_clock::now() + grace;
      res.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      if (res.exit_code == 0) res.exit_code = 1;
      res.message = "worker rank " + std::to_string(rank) + " of " + std::to_string(nproc) + " " + describe_status(st);
    }
  }
  g_nworkers = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  return res;
}

}  // namespace msprune::train
