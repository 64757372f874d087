#pragma once
// Write-then-rename: a reader (or a crash) never sees a half-written file,
// and an existing file is only replaced once the new content is complete.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace msprune {

// Calls write(tmp_path) with a temporary path next to `path`, fsyncs it and
// renames it over `path`. On any failure the temporary file is removed and
// `path` is left untouched; the error is rethrown.
void atomic_write(const std::filesystem::path& path,
                  const std::function<void(const std::filesystem::path& tmp)>& write);

// Convenience: atomically write a byte string.
void atomic_write_bytes(const std::filesystem::path& path, std::string_view bytes);

// Reads a whole file; throws msprune::Error naming the file on failure.
// `max_bytes` guards against absurd inputs.
std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path,
                                           std::size_t max_bytes = std::size_t(1) << 32);

}  // namespace msprune
