// CIFAR reader: layout detection, errors that name the file and problem,
// subsets, CIFAR-100 records, batched augmentation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/augment.h"
#include "data/cifar.h"
#include "data/fetch.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace msprune;
using namespace msprune::data;

namespace {

// Writes a synthetic CIFAR-10 folder: `per_file` records per file, label
// = record index % 10 (or `bad_label` at record 3 of test_batch.bin),
// pixel value = (record + channel + y + x) % 256.
fs::path make_cifar10(const std::string& name, int per_file, int bad_label = -1) {
  fs::path d = fs::temp_directory_path() / ("msprune_cifar_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  auto write = [&](const std::string& f, int offset) {
    std::ofstream o(d / f, std::ios::binary);
    for (int r = 0; r < per_file; ++r) {
      unsigned char label = (unsigned char)((offset + r) % 10);
      if (f == "test_batch.bin" && r == 3 && bad_label >= 0) label = (unsigned char)bad_label;
      o.put(char(label));
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) o.put(char((offset + r + c + y + x) % 256));
    }
  };
  for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", (i - 1) * per_file);
  write("test_batch.bin", 1000);
  std::ofstream(d / "batches.meta.txt") << "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  return d;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Cifar, LoadsSyntheticFolderInOrder) {
  auto d = make_cifar10("ok", 7);
  auto train = load_cifar(d.string(), true);
  ASSERT_EQ(train.size(), 35);
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{35, 3, 32, 32}));
  EXPECT_EQ(train.labels[8].item<int64_t>(), 8);
  // Record 8 of the concatenated split is record 1 of data_batch_2: pixel (c=2, y=3, x=4).
  EXPECT_EQ(train.images[8][2][3][4].item<uint8_t>(), (8 + 2 + 3 + 4) % 256);
  EXPECT_EQ(train.class_names[9], "truck");
  auto test = load_cifar(d.string(), false);
  EXPECT_EQ(test.size(), 7);
  auto counts = class_counts(train);
  EXPECT_EQ(counts[0], 4);  // labels 0..34 % 10
  EXPECT_EQ(counts[9], 3);
}

TEST(Cifar, SubsetIsAPrefixAndReadsFewerFiles) {
  auto d = make_cifar10("subset", 5);
  auto full = load_cifar(d.string(), true);
  auto sub = load_cifar(d.string(), true, 8);
  ASSERT_EQ(sub.size(), 8);
  EXPECT_TRUE(torch::equal(sub.images, full.images.narrow(0, 0, 8)));
  EXPECT_EQ(sub.files.size(), 2u);
  EXPECT_EQ(load_cifar(d.string(), true, 0).size(), 0);
}

TEST(Cifar, MissingFileIsNamed) {
  auto d = make_cifar10("missing", 2);
  fs::remove(d / "data_batch_4.bin");
  std::string e = error_of([&] { load_cifar(d.string(), true); });
  EXPECT_NE(e.find("data_batch_4.bin: file not found"), std::string::npos) << e;
  e = error_of([&] { load_cifar((d / "nope").string(), true); });
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  EXPECT_NE(e.find("--data"), std::string::npos) << e;
}

TEST(Cifar, TruncatedFileIsRefusedNotPartiallyLoaded) {
  auto d = make_cifar10("trunc", 3);
  fs::resize_file(d / "data_batch_2.bin", 3 * 3073 - 100);
  std::string e = error_of([&] { load_cifar(d.string(), true); });
  EXPECT_NE(e.find("data_batch_2.bin: size 9119 bytes is not a whole number of 3073-byte records"), std::string::npos)
      << e;
  std::ofstream(d / "test_batch.bin", std::ios::trunc).close();
  e = error_of([&] { load_cifar(d.string(), false); });
  EXPECT_NE(e.find("test_batch.bin: file is empty"), std::string::npos) << e;
}

TEST(Cifar, LabelOutOfRangeNamesRecordAndOffset) {
  auto d = make_cifar10("badlabel", 5, 10);
  std::string e = error_of([&] { load_cifar(d.string(), false); });
  EXPECT_NE(e.find("test_batch.bin: record 3 (byte offset 9219): label 10 out of range 0..9"), std::string::npos) << e;
}

TEST(Cifar, Cifar100RecordsCarryCoarseAndFineLabels) {
  fs::path d = fs::temp_directory_path() / "msprune_cifar100";
  fs::remove_all(d);
  fs::create_directories(d / "cifar-100-binary");
  for (const char* f : {"train.bin", "test.bin"}) {
    std::ofstream o(d / "cifar-100-binary" / f, std::ios::binary);
    for (int r = 0; r < 4; ++r) {
      o.put(char(r * 5));   // coarse
      o.put(char(r * 33));  // fine
      for (int i = 0; i < 3072; ++i) o.put(char(i % 7));
    }
  }
  auto s = load_cifar(d.string(), true);  // parent folder is accepted
  EXPECT_EQ(s.kind, CifarKind::kCifar100);
  EXPECT_EQ(s.num_classes, 100);
  EXPECT_EQ(s.labels[3].item<int64_t>(), 99);
  EXPECT_EQ(s.coarse_labels[3].item<int64_t>(), 15);
  // A fine label of 100 is out of range.
  {
    std::fstream o(d / "cifar-100-binary" / "test.bin", std::ios::in | std::ios::out | std::ios::binary);
    o.seekp(3074 + 1);
    o.put(char(100));
  }
  std::string e = error_of([&] { load_cifar(d.string(), false); });
  EXPECT_NE(e.find("record 1 (byte offset 3074): label 100 out of range 0..99"), std::string::npos) << e;
}

TEST(Cifar, DatasetViewNormalises) {
  auto d = make_cifar10("dataset", 2);
  CifarDataset ds(load_cifar(d.string(), false));
  EXPECT_EQ(*ds.size(), 2u);
  auto ex = ds.get(1);
  EXPECT_EQ(ex.data.sizes(), (std::vector<int64_t>{3, 32, 32}));
  auto nm = normalization_for(CifarKind::kCifar10);
  float px = float((1000 + 1 + 0 + 0 + 0) % 256) / 255.0f;
  EXPECT_NEAR(ex.data[0][0][0].item<float>(), (px - nm.mean[0]) / nm.std[0], 1e-5);
  EXPECT_THROW(ds.get(2), Error);
}

TEST(Augment, CropAtCentreWithoutFlipIsIdentity) {
  auto img = torch::randint(0, 256, {2, 3, 32, 32}).to(torch::kUInt8);
  auto out = BatchPipeline::crop_flip(img, {4, 4}, {4, 4}, {0, 0});
  EXPECT_TRUE(torch::equal(out, img));
  auto flipped = BatchPipeline::crop_flip(img, {4, 4}, {4, 4}, {1, 0});
  EXPECT_TRUE(torch::equal(flipped[0], img[0].flip({2})));
  EXPECT_TRUE(torch::equal(flipped[1], img[1]));
}

TEST(Augment, CornerCropShowsZeroPadding) {
  auto img = torch::full({1, 3, 32, 32}, 200, torch::kUInt8);
  auto out = BatchPipeline::crop_flip(img, {0}, {8}, {0});  // shifted right by 4, down by -4
  // Columns 0..3 come from the left padding; rows 28..31 from the bottom padding.
  EXPECT_EQ(out[0][1][10][3].item<uint8_t>(), 0);
  EXPECT_EQ(out[0][1][10][4].item<uint8_t>(), 200);
  EXPECT_EQ(out[0][1][27][10].item<uint8_t>(), 200);
  EXPECT_EQ(out[0][1][28][10].item<uint8_t>(), 0);
}

TEST(Augment, BatchesDependOnlyOnSeedEpochAndIndex) {
  auto d = make_cifar10("pipe", 20);
  auto split = load_cifar(d.string(), true);
  BatchPipeline a(split, torch::kCPU), b(split, torch::kCPU);
  auto [x1, y1] = a.train_batch(7, 3, 2, 16);
  (void)b.train_batch(7, 0, 0, 16);  // different history
  auto [x2, y2] = b.train_batch(7, 3, 2, 16);
  EXPECT_TRUE(torch::equal(x1, x2));
  EXPECT_TRUE(torch::equal(y1, y2));
  auto [x3, y3] = a.train_batch(7, 4, 2, 16);
  EXPECT_FALSE(torch::equal(x1, x3));
  // One epoch visits every record exactly once: the labels seen over the
  // epoch have the split's class counts.
  EXPECT_EQ(a.batches_per_epoch(16), 7);  // 100 records, last batch of 4
  std::vector<int64_t> seen(10, 0);
  for (int64_t bi = 0; bi < a.batches_per_epoch(16); ++bi) {
    auto [x, y] = a.train_batch(7, 1, bi, 16);
    EXPECT_EQ(x.size(0), bi < 6 ? 16 : 4);
    for (int64_t i = 0; i < y.size(0); ++i) seen[size_t(y[i].item<int64_t>())]++;
  }
  EXPECT_EQ(seen, class_counts(split));
}

TEST(Fetch, ExtractsOnlyWantedRegularMembers) {
  fs::path d = fs::temp_directory_path() / "msprune_tar";
  fs::remove_all(d);
  fs::create_directories(d / "src" / "cifar-10-batches-bin");
  std::ofstream(d / "src" / "cifar-10-batches-bin" / "test_batch.bin") << "hello";
  std::ofstream(d / "src" / "cifar-10-batches-bin" / "readme.html") << "x";
  std::string cmd = "tar -czf " + (d / "a.tar.gz").string() + " -C " + (d / "src").string() + " cifar-10-batches-bin";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  int n = extract_tar_gz((d / "a.tar.gz").string(), (d / "out").string(), {"test_batch.bin"});
  EXPECT_EQ(n, 1);
  std::ifstream in(d / "out" / "test_batch.bin");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "hello");
  EXPECT_FALSE(fs::exists(d / "out" / "readme.html"));
  // A truncated archive is an error, not a partial success.
  fs::resize_file(d / "a.tar.gz", fs::file_size(d / "a.tar.gz") / 2);
  EXPECT_THROW(extract_tar_gz((d / "a.tar.gz").string(), (d / "out2").string(), {"test_batch.bin"}), Error);
  EXPECT_EQ(md5_file((d / "out" / "test_batch.bin").string()), "5d41402abc4b2a76b9719d911017c592");
}

TEST(RealData, VerifiesWhenMsPruneDataIsSet) {
  const char* dir = std::getenv("MSPRUNE_DATA");
  if (!dir) GTEST_SKIP() << "MSPRUNE_DATA not set";
  auto test = load_cifar(dir, false);
  EXPECT_EQ(test.size(), 10000);
  for (auto c : class_counts(test)) EXPECT_EQ(c, 1000);
}
