// msprune data verify | fetch
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/cifar.h"
#include "data/fetch.h"
#include "util/table.h"

namespace msprune::cli {

void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Check or download CIFAR-10/100 (official binary layout)");
  data->require_subcommand(1);

  struct VerifyOpts {
    std::string dir;
    bool json = false;
  };
  auto vo = std::make_shared<VerifyOpts>();
  auto* verify = data->add_subcommand("verify", "Check a CIFAR folder and print per-class counts");
  add_data_option(verify, &vo->dir);
  verify->add_flag("--json", vo->json, "Print JSON");
  verify->callback([vo] {
    std::string dir = resolve_data_dir(vo->dir);
    auto train = data::load_cifar(dir, true);
    auto test = data::load_cifar(dir, false);
    auto ctr = data::class_counts(train), cte = data::class_counts(test);
    if (vo->json) {
      nlohmann::json j = {{"folder", dir},
                          {"kind", train.kind == data::CifarKind::kCifar100 ? "cifar100" : "cifar10"},
                          {"train_records", train.size()},
                          {"test_records", test.size()},
                          {"classes", train.class_names},
                          {"train_counts", ctr},
                          {"test_counts", cte},
                          {"files", train.files}};
      for (auto& f : test.files) j["files"].push_back(f);
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("%s: %s, %lld training and %lld test records, all labels in range\n", dir.c_str(),
                train.kind == data::CifarKind::kCifar100 ? "CIFAR-100" : "CIFAR-10", (long long)train.size(),
                (long long)test.size());
    Table t({"label", "class", "train", "test"});
    for (size_t c = 0; c < ctr.size(); ++c)
      t.add({std::to_string(c), train.class_names[c], std::to_string(ctr[c]), std::to_string(cte[c])});
    std::printf("%s", t.str().c_str());
  });

  struct FetchOpts {
    data::FetchOptions f;
  };
  auto fo = std::make_shared<FetchOpts>();
  auto* fetch = data->add_subcommand("fetch", "Download the official archive over HTTPS, check its MD5, unpack it");
  fetch->add_option("--dest", fo->f.dest, "Folder to unpack into")->required();
  fetch->add_option("--dataset", fo->f.which, "cifar10 or cifar100")->capture_default_str();
  fetch->add_option("--url", fo->f.url, "Mirror URL of the same archive (the MD5 is still checked)");
  fetch->callback([fo] {
    std::string dir = data::fetch_cifar(fo->f);
    auto test = data::load_cifar(dir, false);
    std::printf("unpacked into %s (%lld test records); use --data %s\n", dir.c_str(), (long long)test.size(),
                dir.c_str());
  });
}

}  // namespace msprune::cli
