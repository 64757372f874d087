#pragma once
// The enclave's seccomp-bpf allow-list (libseccomp). Installed once, after the
// enclave has mapped its memory, read its key and measured itself; from then
// on any other system call kills the process with SIGSYS, as an enclave
// without OCALLs could not make one. The list and why each entry is there:
// docs/tee.md, "Sandbox". Enclave-only: no exceptions.
#include "tee/enclave/status.h"

namespace msprune::tee {

// Locks the calling process. `sock_fd` is the ECALL socket (the only fd it
// may receive from / send to); fd 2 stays writable for diagnostics.
[[nodiscard]] bool lock_down(int sock_fd, TeeError* err);

}  // namespace msprune::tee
