#include "tee/host/inference.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tee/host/host.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/table.h"

namespace msprune::tee {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void check_shape(const ImageSet& images, std::uint64_t c, std::uint64_t h, std::uint64_t w, std::uint64_t classes,
                 const std::string& what) {
  if (images.count == 0) throw Error("no images to run");
  if (images.c != c || images.h != h || images.w != w)
    throw Error(strf("%s takes %llux%llux%llu images, the data has %zux%zux%zu", what.c_str(), (unsigned long long)c,
                     (unsigned long long)h, (unsigned long long)w, images.c, images.h, images.w));
  if (images.labels != nullptr)
    for (std::size_t i = 0; i < images.count; ++i)
      if (images.labels[i] < 0 || std::uint64_t(images.labels[i]) >= classes)
        throw Error(strf("%s has %llu classes, but label %lld occurs in the data", what.c_str(),
                         (unsigned long long)classes, (long long)images.labels[i]));
}

void score(const float* logits, std::uint32_t classes, const ImageSet& images, std::size_t i, Timings* t) {
  if (images.labels == nullptr || i >= images.count) return;
  ++t->labelled;
  if (std::int64_t(rt::argmax(logits, classes)) == images.labels[i]) ++t->correct;
}

}  // namespace

ModelFile read_model_file(const std::filesystem::path& path) {
  ModelFile m;
  m.path = path;
  m.bytes = read_file_bytes(path);
  m.sealed = looks_sealed(m.bytes);
  return m;
}

std::vector<std::uint8_t> sealed_bytes_for(const ModelFile& m, const Digest& measurement, const PlatformKey& key) {
  if (!m.sealed) return seal_model(m.bytes, measurement, key, m.path.string());
  SealedModel s;
  TeeError err;
  if (!peek_sealed_header(m.bytes, &s, &err)) throw Error(m.path.string() + ": " + err.message);
  if (s.measurement != measurement)
    throw Error(m.path.string() + ": sealed to enclave measurement " + hex(s.measurement).substr(0, 16) +
                "..., but this enclave build measures " + hex(measurement).substr(0, 16) +
                "...; reseal the .msm with `msprune seal`");
  return m.bytes;
}

NativeRunner::NativeRunner(const ModelFile& m, int threads) {
  if (m.sealed)
    throw Error(m.path.string() + ": a sealed model can only be unsealed inside the enclave; add --tee emu");
  bytes_.reset(std::aligned_alloc(64, (m.bytes.size() + 63) / 64 * 64 + 64));
  if (!bytes_) throw Error("cannot allocate " + human_bytes(double(m.bytes.size())) + " for the model");
  std::memcpy(bytes_.get(), m.bytes.data(), m.bytes.size());
  rt::Error err;
  if (model_.load(bytes_.get(), m.bytes.size(), rt::LoadOptions{}, &err) != rt::Status::kOk)
    throw Error(m.path.string() + ": not a valid model: " + err.message);
  const std::size_t bytes = (model_.arena_bytes() + 63) / 64 * 64;
  arena_.reset(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (!arena_) throw Error("cannot allocate the runtime arena (" + human_bytes(double(bytes)) + ")");
  rt::InterpreterOptions io;
  io.threads = threads;
  if (interp_.init(model_, arena_.get(), bytes, io, &err) != rt::Status::kOk)
    throw Error(m.path.string() + ": the runtime could not prepare the model: " + err.message);
}

void NativeRunner::run_u8(const std::uint8_t* image, float* logits) {
  rt::Error err;
  if (interp_.invoke_u8(image, logits, &err) != rt::Status::kOk) throw Error(std::string("inference failed: ") + err.message);
}

namespace {

// n single-image calls over `images` (cycled); run_one(image, logits, &t)
// makes one call and may record extra per-call figures in t.
template <typename RunOne>
Timings time_calls(const ImageSet& images, std::size_t n, std::uint32_t classes, const char* label, bool progress,
                   std::vector<float>* logits_out, RunOne&& run_one) {
  std::vector<float> logits(classes);
  if (logits_out) logits_out->assign(n * classes, 0.f);
  Timings t;
  t.host_ms.reserve(n);
  Progress bar(label, n, "img", progress);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = i % images.count;
    auto t0 = std::chrono::steady_clock::now();
    run_one(images.pixels + k * images.image_bytes(), logits.data(), &t);
    t.host_ms.push_back(ms_since(t0));
    if (i < images.count) score(logits.data(), classes, images, k, &t);
    if (logits_out) std::memcpy(logits_out->data() + i * classes, logits.data(), classes * 4);
    bar.tick();
  }
  bar.finish();
  return t;
}

}  // namespace

Timings time_native(NativeRunner& r, const ImageSet& images, std::size_t n, bool progress,
                    std::vector<float>* logits_out) {
  const rt::Model& m = r.model();
  check_shape(images, m.input_channels(), m.input_height(), m.input_width(), m.num_classes(), "the model");
  return time_calls(images, n, m.num_classes(), "native", progress, logits_out,
                    [&](const std::uint8_t* image, float* logits, Timings*) { r.run_u8(image, logits); });
}

Timings time_enclave(EnclaveClient& c, const ImageSet& images, std::size_t n, bool progress,
                     std::vector<float>* logits_out) {
  const ModelInfo& m = c.model();
  check_shape(images, m.in_c, m.in_h, m.in_w, m.classes, "the model");
  return time_calls(images, n, std::uint32_t(m.classes), "enclave", progress, logits_out,
                    [&](const std::uint8_t* image, float* logits, Timings* t) {
                      InferResult res = c.infer_u8(image, 1, logits);
                      t->enclave_ms.push_back(double(res.enclave_ns) / 1e6);
                      t->faults.push_back(res.faults);
                    });
}

std::unique_ptr<EnclaveClient> start_enclave_with(const ModelFile& model, const EnclaveOptions& opts_in, bool stream,
                                                  bool* sealed_on_the_fly, std::uint64_t* load_ns) {
  EnclaveOptions opts = opts_in;
  if (opts.binary.empty()) opts.binary = find_enclave_binary();
  if (opts.platform_key.empty()) throw Error("the enclave needs a platform key (--platform-key FILE)");
  const PlatformKey key = load_platform_key(opts.platform_key);
  const Digest meas = measure_enclave(opts.binary);
  std::vector<std::uint8_t> sealed = sealed_bytes_for(model, meas, key);
  if (sealed_on_the_fly) *sealed_on_the_fly = !model.sealed;
  // Heap: the plaintext (or its metadata) plus the arena; the arena is not
  // known before the enclave plans it, so leave generous virtual room.
  const double need_mib = double(sealed.size()) / 1048576.0 * 2 + 64;
  if (opts.heap_mib < need_mib) opts.heap_mib = need_mib;
  auto c = std::make_unique<EnclaveClient>(opts);
  auto t0 = std::chrono::steady_clock::now();
  c->load(sealed, stream);
  if (load_ns) *load_ns = std::uint64_t(ms_since(t0) * 1e6);
  return c;
}

InferOutcome run_infer(const ModelFile& model, const ImageSet& images, const InferConfig& cfg) {
  InferOutcome out;
  out.images = images.count;
  out.tee = cfg.tee;
  if (!cfg.tee) {
    NativeRunner r(model, cfg.threads);
    out.kernel_level = r.kernel_level();
    out.t = time_native(r, images, images.count, cfg.progress);
  } else {
    auto c = start_enclave_with(model, cfg.enclave, cfg.stream_weights, &out.sealed_on_the_fly, &out.load_ns);
    out.streaming = cfg.stream_weights;
    out.info = c->model();
    out.measurement = measure_enclave(cfg.enclave.binary.empty() ? find_enclave_binary() : cfg.enclave.binary);
    c->stats(true);  // count the timed images only
    out.t = time_enclave(*c, images, images.count, cfg.progress);
    out.stats = c->stats();
    c->shutdown();
  }
  out.correct = out.t.correct;
  return out;
}

}  // namespace msprune::tee
