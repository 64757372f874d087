// The enclave commands end to end, through the msprune binary: keygen, seal,
// attest, verify-report (good and every refusal), infer --tee emu on CIFAR
// (when $MSPRUNE_DATA is set) with the same accuracy as the native runtime.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tee_test_util.h"

using namespace msprune::tee::testing;

namespace {

struct CliRun {
  int rc = -1;
  std::string out;  // stdout and stderr
};

CliRun cli(const std::string& args) {
  const auto bin = build_dir() / "msprune";
  CliRun r;
  if (!std::filesystem::exists(bin)) {
    ADD_FAILURE() << bin << " is missing: build the whole tree (cmake --build BUILD) first";
    return r;
  }
  const std::string cmd = bin.string() + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace

TEST(TeeCli, KeygenSealAttestVerify) {
  TempDir d("tee_cli");
  const std::string dir = d.path.string();
  write_bytes(d.path / "m.msm", tiny_model(5));

  CliRun r = cli("keygen --out " + dir + "/k.key");
  ASSERT_EQ(r.rc, 0) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat((d.path / "k.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  r = cli("keygen --out " + dir + "/k.key");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("refusing to replace"), std::string::npos) << r.out;

  const std::string key = " --platform-key " + dir + "/k.key";
  r = cli("seal --model " + dir + "/m.msm --out " + dir + "/m.sealed" + key);
  ASSERT_EQ(r.rc, 0) << r.out;
  r = cli("seal --model " + dir + "/m.sealed --out " + dir + "/x.sealed" + key);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("already sealed"), std::string::npos) << r.out;

  const std::string nonce = "00112233445566778899aabbccddeeff";
  r = cli("attest --nonce " + nonce + " --model " + dir + "/m.sealed --out " + dir + "/r.json" + key);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("emulated enclave"), std::string::npos) << r.out;

  const std::string verify = "verify-report --report " + dir + "/r.json" + key;
  r = cli(verify + " --nonce " + nonce + " --model " + dir + "/m.msm");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("report OK"), std::string::npos) << r.out;
  r = cli(verify + " --nonce 01" + " --model " + dir + "/m.msm");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("nonce mismatch"), std::string::npos) << r.out;
  write_bytes(d.path / "other.msm", tiny_model(6));
  r = cli(verify + " --nonce " + nonce + " --model " + dir + "/other.msm");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("is not the expected"), std::string::npos) << r.out;
  r = cli(verify + " --nonce " + nonce + " --enclave " + test_enclave_bin().string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("enclave measurement"), std::string::npos) << r.out;
  ASSERT_EQ(cli("keygen --out " + dir + "/k2.key").rc, 0);
  r = cli("verify-report --report " + dir + "/r.json --nonce " + nonce + " --platform-key " + dir + "/k2.key");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("MAC does not verify"), std::string::npos) << r.out;

  // Hostile inputs: clear errors, exit 1, no crash.
  r = cli("attest --nonce xyzw" + key);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("not hex"), std::string::npos) << r.out;
  write_bytes(d.path / "junk.json", {'{', '}'});
  r = cli("verify-report --report " + dir + "/junk.json --nonce " + nonce + key);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("not a report file"), std::string::npos) << r.out;
  write_bytes(d.path / "short.key", {1, 2, 3});
  r = cli("seal --model " + dir + "/m.msm --out " + dir + "/y.sealed --platform-key " + dir + "/short.key");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("exactly 32 bytes"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d.path / "y.sealed"));
}

TEST(TeeCli, InferInTheEnclaveMatchesNativeAccuracy) {
  const char* data = std::getenv("MSPRUNE_DATA");
  if (!data || !*data) GTEST_SKIP() << "MSPRUNE_DATA not set";
  TempDir d("tee_cli_infer");
  const std::string dir = d.path.string();
  write_bytes(d.path / "m.msm", tiny_model(5));
  ASSERT_EQ(cli("keygen --out " + dir + "/k.key").rc, 0);
  const std::string common = " --data " + std::string(data) + " --limit 200 --json";
  CliRun native = cli("infer --model " + dir + "/m.msm --threads 1" + common);
  ASSERT_EQ(native.rc, 0) << native.out;
  CliRun tee = cli("infer --model " + dir + "/m.msm --tee emu --epc-mib 0.0625 --platform-key " + dir + "/k.key" +
                    common);
  ASSERT_EQ(tee.rc, 0) << tee.out;
  auto last_json = [](const std::string& out) {  // the JSON line (stderr may hold notes)
    std::size_t at = out.rfind("\n{");
    return nlohmann::json::parse(at == std::string::npos ? out : out.substr(at + 1), nullptr, false);
  };
  nlohmann::json a = last_json(native.out), b = last_json(tee.out);
  ASSERT_FALSE(a.is_discarded()) << native.out;
  ASSERT_FALSE(b.is_discarded()) << tee.out;
  EXPECT_EQ(a["images"], 200);
  EXPECT_EQ(a["correct"], b["correct"]);
  EXPECT_EQ(b["sealed_on_the_fly"], true);
  EXPECT_GT(b["faults_per_image"].get<double>(), 0.0);  // 16 pages of EPC: it paged
  // A sealed model runs only with --tee.
  ASSERT_EQ(cli("seal --model " + dir + "/m.msm --out " + dir + "/m.sealed --platform-key " + dir + "/k.key").rc, 0);
  CliRun refused = cli("infer --model " + dir + "/m.sealed" + common);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.out.find("only run inside the enclave"), std::string::npos) << refused.out;
}

// The front end (src/cli/front.cpp): `msprune` itself links no LibTorch, runs
// the commands that need none, and hands the others to msprune-torch, so the
// README's commands work unchanged.
TEST(CliFront, LinksNoLibTorchAndHandsOverTheRest) {
  const auto bin = build_dir() / "msprune";
  ASSERT_TRUE(std::filesystem::exists(bin)) << bin;
  FILE* p = ::popen(("ldd " + bin.string() + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string libs;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) libs.append(buf.data(), n);
  ASSERT_EQ(::pclose(p), 0) << libs;
  EXPECT_NE(libs.find("libc.so"), std::string::npos) << libs;
  for (const char* torch : {"libtorch", "libc10"})
    EXPECT_EQ(libs.find(torch), std::string::npos) << bin << " links " << torch << ":\n" << libs;

  CliRun r = cli("version");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind("msprune ", 0), 0u) << r.out;
  r = cli("--help");  // handed over: msprune-torch lists every command
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const char* c : {"version", "data", "train", "finetune", "eval", "prune", "export", "keygen", "seal", "attest",
                        "verify-report", "infer", "bench", "meanshift", "inspect", "pipeline"})
    EXPECT_NE(r.out.find(std::string("  ") + c + " "), std::string::npos) << c << " missing from:\n" << r.out;
  r = cli("train --help");  // handed over
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("--sparsity"), std::string::npos) << r.out;
  r = cli("bench --model /nonexistent.ckpt");  // no --tee: a checkpoint, so msprune-torch
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("msprune: error:"), std::string::npos) << r.out;
  r = cli("no-such-command");
  EXPECT_NE(r.rc, 0) << r.out;
}
