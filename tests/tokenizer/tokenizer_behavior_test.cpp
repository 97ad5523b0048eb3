// stories260K's tokenizer against llama2.c/HF ids, special-token handling, the incremental detokenizer, and
// clear errors for malformed tokenizer.json files.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "support/test_support.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_fixtures.h"

namespace r1::test {
namespace {

TEST(Stories260KTokenizer, MatchesHuggingFaceOnTokenizerCheck) {
  R1_REQUIRE_SHARED();
  const Tokenizer& tok = load_family("stories260K");
  auto check = read_json(shared_path("golden/stories260K-hf/tokenizer_check.json"));
  ASSERT_GE(check["cases"].size(), 20u);
  for (const auto& c : check["cases"])
    EXPECT_EQ(tok.encode(c["text"].get<std::string>()), c["hf_tokenizer_json"].get<std::vector<int32_t>>())
        << c["text"];
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.bos_token(), "<s>");
  EXPECT_EQ(tok.vocab_size(), 512u);
}

TEST(Stories260KTokenizer, DecodesTheGreedyRunAsLlama2cPrintedIt) {
  R1_REQUIRE_SHARED();
  const Tokenizer& tok = load_family("stories260K");
  std::vector<int32_t> ids{1};
  for (int32_t id : read_json(shared_path("golden/stories260K-hf/greedy200_from_bos_ids.json")))
    ids.push_back(id);
  std::string want = read_file(shared_path("golden/stories260K-hf/greedy200_from_bos_text.txt"));
  EXPECT_EQ(tok.decode(ids, true), want);
  IncrementalDetokenizer detok(tok, true);
  std::string streamed;
  for (int32_t id : ids) streamed += detok.push(id);
  streamed += detok.flush();
  EXPECT_EQ(streamed, want);
}

TEST(SpecialTokens, MatchedInTextAndAddedByThePostProcessor) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  const Tokenizer& tok = load_family("deepseek-r1-qwen");
  EXPECT_EQ(tok.bos_id(), 151646);
  EXPECT_EQ(tok.eos_id(), 151643);
  EXPECT_EQ(tok.bos_token(), "<｜begin▁of▁sentence｜>");
  auto plain = tok.encode("Hi", false);
  auto with = tok.encode("Hi", true);
  ASSERT_EQ(with.size(), plain.size() + 1);
  EXPECT_EQ(with[0], 151646);
  auto ids = tok.encode("<｜User｜>2+2?<｜Assistant｜><think>\n", false);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151645), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151648), ids.end());
  EXPECT_TRUE(tok.is_special(151643));
  EXPECT_FALSE(tok.is_special(151648));  // <think> is an added token but not a special one
  EXPECT_EQ(tok.token_to_id("<think>"), 151648);
  EXPECT_EQ(tok.id_to_token(151649), "</think>");
  EXPECT_EQ(tok.vocab_size(), 151665u);
}

// Streams ids through the detokenizer; every chunk must be valid UTF-8 and the whole must equal decode().
std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip,
                   size_t* held_back = nullptr) {
  IncrementalDetokenizer detok(tok, skip);
  std::string all;
  for (int32_t id : ids) {
    std::string chunk = detok.push(id);
    EXPECT_EQ(tok::find_invalid_utf8(chunk), std::string::npos) << "chunk for id " << id;
    if (chunk.empty() && held_back) ++*held_back;
    all += chunk;
  }
  return all + detok.flush();
}

TEST(IncrementalDetokenizer, EmojiAndCjkSplitAcrossByteLevelTokens) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  const Tokenizer& tok = load_family("qwen2");
  const std::string text = "你好，世界 😀 👨‍👩‍👧 emoji ꙮ and Ω";
  auto ids = tok.encode(text, false);
  size_t partial_tokens = 0;
  for (int32_t id : ids)
    if (tok::find_invalid_utf8(tok.token_bytes(id, true)) != std::string::npos) ++partial_tokens;
  ASSERT_GT(partial_tokens, 0u) << "the text should contain characters split across tokens";
  size_t held = 0;
  EXPECT_EQ(stream(tok, ids, false, &held), text);
  EXPECT_GT(held, 0u);
}

TEST(IncrementalDetokenizer, ByteFallbackSequencesAreJoined) {
  R1_REQUIRE_SHARED();
  const Tokenizer& tok =
      load_family("stories260K");  // 512 tokens: every non-ASCII character falls back to bytes
  const std::string text = "Café 你好 😀!";
  auto ids = tok.encode(text, true);
  ASSERT_NE(std::find(ids.begin(), ids.end(), *tok.token_to_id("<0xE4>")), ids.end());
  size_t held = 0;
  EXPECT_EQ(stream(tok, ids, true, &held), text);
  EXPECT_GT(held, 0u);
  EXPECT_EQ(tok.decode(ids, true), text);
  EXPECT_EQ(tok.decode(ids, false), "<s> " + text);
  EXPECT_EQ(stream(tok, ids, false), "<s> " + text);
}

TEST(IncrementalDetokenizer, SkipsSpecialTokensOnlyWhenAsked) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  const Tokenizer& tok = load_family("deepseek-r1-qwen");
  const std::string text =
      "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\nOK</think> 42<｜end▁of▁sentence｜>";
  auto ids = tok.encode(text, false);
  EXPECT_EQ(stream(tok, ids, false), text);
  // Special ones go; <｜User｜>, <think> are added but not special, so they stay (as in Hugging Face).
  EXPECT_EQ(stream(tok, ids, true), "<｜User｜>Hi<｜Assistant｜><think>\nOK</think> 42");
  EXPECT_EQ(tok.decode(ids, true), stream(tok, ids, true));
}

TEST(IncrementalDetokenizer, FlushTurnsAnUnfinishedCharacterIntoReplacement) {
  R1_REQUIRE_SHARED();
  const Tokenizer& tok = load_family("stories260K");
  IncrementalDetokenizer detok(tok, false);
  EXPECT_EQ(detok.push(*tok.token_to_id("<0xE4>")), "");
  EXPECT_EQ(detok.push(*tok.token_to_id("<0xBD>")), "");
  EXPECT_EQ(detok.flush(), "\xEF\xBF\xBD");
}

TEST(Tokenizer, RejectsBadInputWithClearErrors) {
  R1_REQUIRE_SHARED();
  const Tokenizer& tok = load_family("stories260K");
  try {
    tok.encode("ok \xFF bad");
    FAIL() << "invalid UTF-8 must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
  }
  std::vector<int32_t> bad{5, 100000};
  EXPECT_THROW(tok.decode(bad), Error);
  EXPECT_EQ(tok.id_to_token(100000), "");
  EXPECT_FALSE(tok.token_to_id("no such token").has_value());
}

TEST(Tokenizer, FromDirWithoutTokenizerJsonIsNull) {
  TempDir dir;
  EXPECT_EQ(Tokenizer::from_dir(dir.path().string()), nullptr);
}

// Merges are resolved through the written token strings only while no two tokens stand for the same bytes.
// Here "Ġ" (the ByteLevel spelling of a space) and a raw " " both stand for byte 0x20; the first in the
// file's key order (" ") owns those bytes, so the merge "Ġ a" means that token followed by "a", and " a" is
// one token.
TEST(Tokenizer, MergesOfTokensThatShareBytesResolveAsTheVocabularyDoes) {
  TempDir dir;
  nlohmann::json j = {
      {"model",
       {{"type", "BPE"},
        {"vocab", {{"\u0120", 0}, {" ", 1}, {"a", 2}, {"\u0120a", 3}}},
        {"merges", {"\u0120 a"}}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}},
      {"decoder", {{"type", "ByteLevel"}}}};
  std::ofstream(dir.file("tokenizer.json")) << j.dump();
  auto tok = Tokenizer::from_files(dir.file("tokenizer.json"));
  EXPECT_EQ(tok->encode(" a", false), (std::vector<int32_t>{3}));
}

// A malformed copy of stories260K's tokenizer.json must fail naming the file and the construct.
class MalformedTokenizerJson : public ::testing::Test {
 protected:
  void SetUp() override { R1_REQUIRE_SHARED(); }
  std::string error_for(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = read_json(shared_path("models/stories260K-hf/tokenizer.json"));
    edit(j);
    std::ofstream(dir_.file("tokenizer.json")) << j.dump();
    return error_for_file();
  }
  std::string error_for_file() {
    try {
      Tokenizer::from_files(dir_.file("tokenizer.json"));
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(dir_.file("tokenizer.json")), std::string::npos) << msg;
      return msg;
    }
    ADD_FAILURE() << "loaded without error";
    return {};
  }
  TempDir dir_;
};

TEST_F(MalformedTokenizerJson, NotJson) {
  std::ofstream(dir_.file("tokenizer.json")) << "{\"model\": ";
  EXPECT_NE(error_for_file().find("not valid JSON"), std::string::npos);
}

TEST_F(MalformedTokenizerJson, UnsupportedComponents) {
  EXPECT_NE(error_for([](auto& j) {
              j["normalizer"] = {{"type", "Precompiled"}};
            }).find("\"Precompiled\""),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) {
              j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
            }).find("BertPreTokenizer"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["model"]["type"] = "Unigram"; }).find("model.type"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) {
              j["decoder"]["decoders"][1] = {{"type", "WordPiece"}};
            }).find("decoder.decoders[1]"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["post_processor"]["type"] = "Mystery"; }).find("post_processor"),
            std::string::npos);
}

TEST_F(MalformedTokenizerJson, BrokenFields) {
  EXPECT_NE(error_for([](auto& j) { j.erase("model"); }).find("\"model\""), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["model"]["merges"][3] = "nospace"; }).find("model.merges[3]"),
            std::string::npos);
  EXPECT_NE(
      error_for([](auto& j) { j["model"]["merges"][0] = "▁ zzzz"; }).find("missing from the vocabulary"),
      std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["model"]["vocab"]["x"] = "one"; }).find("model.vocab.x"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["added_tokens"][0]["content"] = 7; }).find("added_tokens[0].content"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) {
              j["pre_tokenizer"] = {
                  {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
            }).find("regex"),
            std::string::npos);
  EXPECT_NE(
      error_for([](auto& j) { j["post_processor"]["special_tokens"]["<s>"]["ids"] = {99999}; }).find("99999"),
      std::string::npos);
}

}  // namespace
}  // namespace r1::test
