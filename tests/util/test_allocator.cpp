// tune_allocator(): freed tensor-sized blocks stay in the process (no fresh
// mapping per allocation, no trimming after free), and the user's own malloc
// settings win. Its own program: the settings are process-wide.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "util/allocator.h"

namespace {

void* volatile sink = nullptr;  // keeps the compiler from eliding malloc/free

constexpr size_t kBlock = 16u << 20;  // a batch's activation, well above glibc's default threshold

TEST(Allocator, UserSettingsWin) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, settings not yet applied
  EXPECT_EXIT(
      {
        setenv("MSPRUNE_MALLOC", "default", 1);
        const auto& s = msprune::tune_allocator();
        std::exit(!s.tuned && s.summary == "glibc defaults (MSPRUNE_MALLOC=default)" ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        setenv("MALLOC_TRIM_THRESHOLD_", "1000000", 1);
        std::exit(!msprune::tune_allocator().tuned ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Allocator, FreedBlocksStayInTheProcess) {
  ASSERT_EQ(msprune::allocator_summary(), "not called");
  const auto& s = msprune::tune_allocator();
  ASSERT_TRUE(s.tuned) << s.summary;
  EXPECT_EQ(msprune::allocator_summary(), s.summary);
  const struct mallinfo2 before = mallinfo2();
  for (int i = 0; i < 3; ++i) {
    sink = std::malloc(kBlock);
    ASSERT_NE(sink, nullptr);
    std::memset(sink, i, kBlock);
    // From the heap, not a mapping of its own (glibc's default maps it).
    EXPECT_EQ(mallinfo2().hblks, before.hblks) << "allocation " << i;
    std::free(sink);
    // Not trimmed back to the system after the free.
    EXPECT_GE(mallinfo2().arena, kBlock) << "allocation " << i;
  }
}

}  // namespace
