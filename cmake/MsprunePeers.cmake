# Benchmark peers are optional: a missing or broken peer never stops the
# product's build. Each probe below says in one configure line what it found.
#
# msprune_find_onednn(): defines MSPRUNE_HAVE_ONEDNN (and the DNNL::dnnl
# target) when oneDNN's CMake package loads. Debian's libdnnl-dev is built for
# OpenCL GPUs and its dnnl-config.cmake calls find_package(OpenCL REQUIRED),
# which is fatal even under QUIET when ocl-icd-opencl-dev (only "recommended"
# by libdnnl-dev) is absent; so the config file is read first and OpenCL looked
# for before oneDNN's config is allowed to run.
function(msprune_find_onednn)
  set(MSPRUNE_HAVE_ONEDNN OFF PARENT_SCOPE)
  # Probed afresh at every configure (no cached paths), so removing a package
  # from a machine with an existing build/ is noticed too.
  find_file(MSPRUNE_DNNL_CONFIG dnnl-config.cmake NO_CACHE
            PATH_SUFFIXES lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/dnnl lib/cmake/dnnl lib64/cmake/dnnl)
  if(NOT MSPRUNE_DNNL_CONFIG)
    message(STATUS "oneDNN: not found (libdnnl-dev); bench_runtime, its benchmark peer, is skipped")
    return()
  endif()
  file(STRINGS "${MSPRUNE_DNNL_CONFIG}" ocl_runtime REGEX "set\\(DNNL_GPU_RUNTIME \"OCL\"\\)")
  if(ocl_runtime)
    unset(OpenCL_LIBRARY CACHE)
    unset(OpenCL_INCLUDE_DIR CACHE)
    find_package(OpenCL QUIET)
    if(NOT OpenCL_FOUND)
      message(STATUS "oneDNN: found but its CMake config needs OpenCL (ocl-icd-opencl-dev), which is missing; bench_runtime is skipped")
      return()
    endif()
  endif()
  find_package(dnnl CONFIG QUIET)
  if(TARGET DNNL::dnnl)
    message(STATUS "oneDNN: ${dnnl_VERSION} (benchmark peer for bench_runtime)")
    set(MSPRUNE_HAVE_ONEDNN ON PARENT_SCOPE)
  else()
    message(STATUS "oneDNN: ${MSPRUNE_DNNL_CONFIG} did not define DNNL::dnnl; bench_runtime is skipped")
  endif()
endfunction()
