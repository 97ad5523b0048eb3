// --model NAME=SOURCE[,KEY=VALUE...] and the keep-alive spellings shared by --idle-unload,
// R1SERVE_KEEP_ALIVE and a request's keep_alive.
#include "serving/model_spec.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace r1::serving {
namespace {

TEST(ModelArg, PlainSourceNamedAndOverrides) {
  EXPECT_EQ(parse_model_arg("../shared/models/x").source, "../shared/models/x");
  EXPECT_EQ(parse_model_arg("org/name@main").name, "");
  // '/' before '=' makes it a path, not a NAME.
  EXPECT_EQ(parse_model_arg("/tmp/a=b").source, "/tmp/a=b");
  ModelArg a = parse_model_arg("small=../m,dtype=bf16,idle-unload=never");
  EXPECT_EQ(a.name, "small");
  EXPECT_EQ(a.source, "../m");
  ASSERT_EQ(a.overrides.size(), 2u);
  EXPECT_EQ(a.overrides[1].first, "idle-unload");
  EXPECT_THROW(parse_model_arg("=../m"), r1::Error);
  EXPECT_THROW(parse_model_arg("small="), r1::Error);
  EXPECT_THROW(parse_model_arg("small=../m,dtype"), r1::Error);
}

TEST(ModelArg, OverridesApplyToOneModelAndNameTheKey) {
  ModelSpec s;
  s.name = "small";
  apply_model_override(s, "dtype", "bfloat16");
  apply_model_override(s, "kv-cache-memory", "32MiB");
  apply_model_override(s, "threads", "2");
  apply_model_override(s, "idle-unload", "30s");
  EXPECT_EQ(s.options.dtype, "bf16");
  EXPECT_EQ(s.options.kv_cache_memory, "32MiB");
  EXPECT_EQ(s.options.threads, 2);
  ASSERT_TRUE(s.idle_unload && *s.idle_unload);
  EXPECT_EQ(**s.idle_unload, Millis(30000));
  try {
    apply_model_override(s, "colour", "red");
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model small: unknown per-model option 'colour'"),
              std::string::npos);
  }
  EXPECT_THROW(apply_model_override(s, "threads", "-1"), r1::Error);
}

TEST(KeepAlive, OllamaAndGoSpellings) {
  EXPECT_EQ(*parse_keep_alive("300", "x"), Millis(300000));
  EXPECT_EQ(*parse_keep_alive("5m", "x"), Millis(300000));
  EXPECT_EQ(*parse_keep_alive("1h30m", "x"), Millis(5400000));
  EXPECT_EQ(*parse_keep_alive("250ms", "x"), Millis(250));
  EXPECT_EQ(*parse_keep_alive("0", "x"), Millis(0));
  EXPECT_EQ(*parse_keep_alive("0.5", "x"), Millis(500));
  EXPECT_FALSE(parse_keep_alive("-1", "x"));
  EXPECT_FALSE(parse_keep_alive("never", "x"));
  EXPECT_FALSE(parse_keep_alive("-5m", "x"));
  EXPECT_FALSE(keep_alive_from_seconds(-1));
  for (const char* bad : {"", "5 minutes", "m", "5d", "1.2.3s", "inf"}) {
    try {
      parse_keep_alive(bad, "--idle-unload");
      ADD_FAILURE() << bad;
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find("--idle-unload"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(keep_alive_name(Millis(300000)), "5m");
  EXPECT_EQ(keep_alive_name(std::nullopt), "never");
  EXPECT_EQ(keep_alive_name(Millis(1500)), "1500ms");
}

}  // namespace
}  // namespace r1::serving
