# Helpers that keep the dependency-free parts dependency-free.
#
# msprune_enclave_safe(target): compile a target as enclave-side code:
#   no exceptions, no RTTI. Anything that throws fails to compile.
function(msprune_enclave_safe target)
  target_compile_options(${target} PRIVATE -fno-exceptions -fno-rtti)
endfunction()
