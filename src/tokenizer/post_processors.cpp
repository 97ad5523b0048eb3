#include "tokenizer/post_processors.h"

namespace r1::tok {

namespace {

std::vector<int32_t> ids_of_special(const json& special_tokens, const std::string& name,
                                    const JsonPlace& at) {
  JsonPlace st_at = at.field("special_tokens");
  const json& table = need_object(need(special_tokens, name.c_str(), st_at), st_at);
  JsonPlace ids_at = st_at.field(name).field("ids");
  const json& ids = need_array(need(table, "ids", st_at.field(name)), ids_at);
  std::vector<int32_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer() || ids[i].get<int64_t>() < 0) fail_at(ids_at.index(i), "not a token id");
    out.push_back(int32_t(ids[i].get<int64_t>()));
  }
  return out;
}

void template_processing(const json& j, const JsonPlace& at, SpecialTokenTemplate& t) {
  JsonPlace single_at = at.field("single");
  const json& single = need_array(need(j, "single", at), single_at);
  const json& special = j.contains("special_tokens") ? j["special_tokens"] : json::object();
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    JsonPlace item_at = single_at.index(i);
    const json& item = need_object(single[i], item_at);
    if (item.contains("Sequence")) {
      if (seen_sequence) fail_at(item_at, "a single-sequence template may hold one Sequence");
      seen_sequence = true;
    } else if (item.contains("SpecialToken")) {
      std::string name = need_string(need_object(item["SpecialToken"], item_at.field("SpecialToken")), "id",
                                     item_at.field("SpecialToken"));
      auto ids = ids_of_special(special, name, at);
      auto& dst = seen_sequence ? t.suffix : t.prefix;
      dst.insert(dst.end(), ids.begin(), ids.end());
    } else {
      fail_at(item_at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  if (!seen_sequence) fail_at(single_at, "the template has no Sequence");
}

// Roberta/Bert: [cls] A [sep], each given as ["token", id].
void cls_sep(const json& j, const JsonPlace& at, SpecialTokenTemplate& t) {
  for (const char* key : {"cls", "sep"}) {
    const json& v = need(j, key, at);
    if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer())
      fail_at(at.field(key), "expected [token, id]");
    (std::string(key) == "cls" ? t.prefix : t.suffix).push_back(int32_t(v[1].get<int64_t>()));
  }
}

void parse_into(const json& j, const JsonPlace& at, SpecialTokenTemplate& t) {
  std::string type = type_of(j, at);
  if (type == "TemplateProcessing") return template_processing(j, at, t);
  if (type == "ByteLevel") return;
  if (type == "RobertaProcessing" || type == "BertProcessing") return cls_sep(j, at, t);
  if (type == "Sequence") {
    JsonPlace list_at = at.field("processors");
    const json& list = need_array(need(j, "processors", at), list_at);
    for (size_t i = 0; i < list.size(); ++i)
      if (!list[i].is_null()) parse_into(list[i], list_at.index(i), t);
    return;
  }
  fail_at(at, "post_processor type \"" + type + "\" is not supported");
}

}  // namespace

SpecialTokenTemplate parse_post_processor(const json& j, const JsonPlace& at) {
  SpecialTokenTemplate t;
  if (!j.is_null()) parse_into(j, at, t);
  return t;
}

}  // namespace r1::tok
