#include "tee/enclave/sandbox.h"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <seccomp.h>
#include <sys/mman.h>

namespace msprune::tee {

bool lock_down(int sock_fd, TeeError* err) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return fail(err, TeeStatus::kInternal, "seccomp_init failed");
  int rc = 0;
  auto allow = [&](int nr, unsigned n = 0, scmp_arg_cmp a = {}, scmp_arg_cmp b = {}) {
    if (rc != 0) return;
    if (n == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    else if (n == 1) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, a);
    else rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, a, b);
  };
  const auto fd = scmp_datum_t(sock_fd);
  const auto no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);

  // The ECALL loop: one socket, whole packets (recv/send are recvfrom/sendto).
  allow(SCMP_SYS(recvfrom), 1, SCMP_A0(SCMP_CMP_EQ, fd));
  allow(SCMP_SYS(sendto), 1, SCMP_A0(SCMP_CMP_EQ, fd));
  allow(SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 2));  // diagnostics on stderr
  // Telling an empty packet from the host hanging up (poll, timeout 0).
  allow(SCMP_SYS(poll));
  allow(SCMP_SYS(ppoll));
  // The pager: revoke/grant pages, punch evicted pages out of the memfd.
  allow(SCMP_SYS(mprotect), 1, no_exec);
  allow(SCMP_SYS(madvise));
  // glibc malloc, used by OpenSSL's HKDF/HMAC contexts in ECALL handlers
  // (never in the fault handler): brk, and mmap/munmap/mremap for large
  // blocks. No executable mappings.
  allow(SCMP_SYS(brk));
  allow(SCMP_SYS(mmap), 1, no_exec);
  allow(SCMP_SYS(munmap));
  allow(SCMP_SYS(mremap));
  // Time (the vDSO usually answers without a syscall), locks, signals.
  allow(SCMP_SYS(clock_gettime));
  allow(SCMP_SYS(futex));
  allow(SCMP_SYS(rt_sigreturn));
  // Restoring SIGSEGV's default action after a fault outside the heap.
  allow(SCMP_SYS(rt_sigaction), 1, SCMP_A0(SCMP_CMP_EQ, scmp_datum_t(SIGSEGV)));
  // abort(): block signals, then SIGABRT to itself, so a failed assertion is
  // reported as SIGABRT rather than as a sandbox violation.
  allow(SCMP_SYS(rt_sigprocmask));
  allow(SCMP_SYS(getpid));
  allow(SCMP_SYS(gettid));
  allow(SCMP_SYS(tgkill), 1, SCMP_A2(SCMP_CMP_EQ, scmp_datum_t(SIGABRT)));
  // Leaving.
  allow(SCMP_SYS(exit_group));
  allow(SCMP_SYS(exit));
  if (rc != 0) {
    seccomp_release(ctx);
    return fail(err, TeeStatus::kInternal, "seccomp_rule_add failed: %s", std::strerror(-rc));
  }
  rc = seccomp_load(ctx);  // also sets no_new_privs
  seccomp_release(ctx);
  if (rc != 0) return fail(err, TeeStatus::kInternal, "seccomp_load failed: %s", std::strerror(-rc));
  return true;
}

}  // namespace msprune::tee
