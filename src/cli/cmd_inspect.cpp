// msprune inspect: verify a .msm file with the runtime's own verifier and
// print its layers, shapes, parameters, MACs, weight and arena bytes, and the
// enclave heap it needs (tee/enclave/enclave_heap.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tee/enclave/enclave_heap.h"
#include "runtime/runtime.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/table.h"

namespace msprune::cli {
namespace {

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += strf("%02x", p[i]);
  return s;
}

std::string shape(uint32_t c, uint32_t h, uint32_t w) { return strf("%ux%ux%u", c, h, w); }

}  // namespace

void add_inspect_command(CLI::App& app) {
  struct Opts {
    std::string model;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("inspect", "Verify a .msm model and print its layers, sizes and memory plan");
  sub->add_option("model", o->model, "Model file (.msm)")->required();
  sub->add_flag("--json", o->json, "Print JSON");
  sub->callback([o] {
    auto bytes = read_file_bytes(o->model);
    // The runtime wants the file at a 64-byte-aligned address, as a loader would map it.
    std::unique_ptr<void, decltype(&std::free)> buf(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64),
                                                    &std::free);
    if (!buf) throw Error("out of memory reading " + o->model);
    if (!bytes.empty()) std::memcpy(buf.get(), bytes.data(), bytes.size());
    rt::Model m;
    rt::Error err;
    if (m.load(buf.get(), bytes.size(), {}, &err) != rt::Status::kOk) {
      std::string where = err.offset == rt::Error::kNoOffset ? "" : strf(" (byte offset %llu)", (unsigned long long)err.offset);
      throw Error(o->model + ": invalid model: " + rt::status_name(err.status) + where + ": " + err.message);
    }
    uint64_t params = 0;
    std::vector<rt::OpInfo> ops(m.num_ops());
    for (uint32_t i = 0; i < m.num_ops(); ++i) {
      if (m.op_info(i, &ops[i]) != rt::Status::kOk) throw Error("internal: op_info failed");
      params += ops[i].params;
    }
    if (o->json) {
      nlohmann::json j = {{"model", o->model},
                          {"valid", true},
                          {"input", {m.input_channels(), m.input_height(), m.input_width()}},
                          {"classes", m.num_classes()},
                          {"ops", m.num_ops()},
                          {"params", params},
                          {"macs", m.total_macs()},
                          {"file_bytes", m.file_bytes()},
                          {"weights_bytes", m.weights_bytes()},
                          {"activation_bytes", m.activation_bytes()},
                          {"arena_bytes", m.arena_bytes()},
                          {"enclave_heap_bytes", tee::enclave_heap_bytes(m)},
                          {"content_hash", hex(m.content_hash(), 32)},
                          {"layers", nlohmann::json::array()}};
      for (uint32_t i = 0; i < m.num_ops(); ++i) {
        const auto& op = ops[i];
        j["layers"].push_back({{"index", i},
                               {"type", rt::op_type_name(op.type)},
                               {"relu", op.relu},
                               {"in", {op.in_c, op.in_h, op.in_w}},
                               {"out", {op.out_c, op.out_h, op.out_w}},
                               {"kernel", op.kernel},
                               {"stride", op.stride},
                               {"gather", op.gather},
                               {"residual", op.type == rt::OpType::kConv2d && op.num_inputs == 2},
                               {"params", op.params},
                               {"macs", op.macs},
                               {"weight_bytes", op.weight_bytes}});
      }
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("%s: valid .msm, input %s, %u classes, %u ops\n", o->model.c_str(),
                shape(m.input_channels(), m.input_height(), m.input_width()).c_str(), m.num_classes(), m.num_ops());
    Table t({"#", "op", "in", "out", "k/s", "params", "MACs", "weights"});
    for (uint32_t i = 0; i < m.num_ops(); ++i) {
      const auto& op = ops[i];
      std::string name = rt::op_type_name(op.type);
      if (op.gather) name += "+gather";
      if (op.type == rt::OpType::kConv2d && op.num_inputs == 2) name += "+add";  // residual fused
      if (op.relu) name += "+relu";
      if (op.type == rt::OpType::kConcat && op.in_place) name += " (in place)";
      t.add({std::to_string(i), name, shape(op.in_c, op.in_h, op.in_w), shape(op.out_c, op.out_h, op.out_w),
             op.kernel ? strf("%u/%u", op.kernel, op.stride) : "", op.params ? human_count(double(op.params)) : "",
             op.macs ? human_count(double(op.macs)) : "", op.weight_bytes ? human_bytes(double(op.weight_bytes)) : ""});
    }
    std::printf("%s", t.str().c_str());
    const uint64_t heap = tee::enclave_heap_bytes(m);
    std::printf("parameters   %s (%llu)\nMACs         %s (%llu)\nweights      %s\nactivations  %s\narena        %s (%llu bytes, known before inference)\nfile         %s\nenclave heap %s (%llu bytes: file rounded up to 64 + arena)\ncontent hash %s\n",
                human_count(double(params)).c_str(), (unsigned long long)params, human_count(double(m.total_macs())).c_str(),
                (unsigned long long)m.total_macs(), human_bytes(double(m.weights_bytes())).c_str(),
                human_bytes(double(m.activation_bytes())).c_str(), human_bytes(double(m.arena_bytes())).c_str(),
                (unsigned long long)m.arena_bytes(), human_bytes(double(m.file_bytes())).c_str(),
                human_bytes(double(heap)).c_str(), (unsigned long long)heap, hex(m.content_hash(), 32).c_str());
  });
}

}  // namespace msprune::cli
