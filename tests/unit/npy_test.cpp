#include "core/npy.h"

#include <fstream>

#include "core/error.h"
#include "support/test_support.h"

namespace r1 {
namespace {

TEST(Npy, WriteThenReadKeepsShapeAndValues) {
  test::TempDir tmp;
  std::vector<float> v{1.5f, -2.f, 3.25f, 0.f, 7.f, 8.f};
  write_npy_f32(tmp.file("a.npy"), v.data(), {2, 3});
  NpyArray a = read_npy_f32(tmp.file("a.npy"));
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, v);
  // numpy requires the header (magic + lengths + dict) to end on a 64-byte boundary.
  EXPECT_EQ((test::read_file(tmp.file("a.npy")).size() - v.size() * 4) % 64, 0u);
}

TEST(Npy, ReadsTheSharedGoldenFiles) {
  R1_REQUIRE_SHARED();
  NpyArray a = read_npy_f32(test::shared_path("golden/tiny-qwen2/case1_logits.npy"));
  EXPECT_EQ(a.shape, (std::vector<size_t>{8, 1024}));
}

TEST(Npy, RejectsOtherFiles) {
  test::TempDir tmp;
  std::ofstream(tmp.file("x.npy")) << "not numpy";
  EXPECT_THROW(read_npy_f32(tmp.file("x.npy")), Error);
}

}  // namespace
}  // namespace r1
