// The HTML report renders in headless Chromium: a screenshot is produced, is not blank, and the page logs no
// console errors. The report is built from a deterministic two-endpoint run with an error and costs, so every
// section of the page is drawn.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bench/report_html.h"
#include "support/test_support.h"

namespace r1::bench {
namespace {

const char* const kChromium = "/usr/bin/chromium";

BenchRun synthetic_run() {
  BenchRun run;
  run.started_at = "2026-01-01T00:00:00Z";
  run.config = {{"dataset", "gsm8k/test.jsonl"},
                {"num_prompts", 20},
                {"api", "chat"},
                {"warmup", 3},
                {"runs", 5},
                {"max_tokens", 256},
                {"load", {"sequential"}}};
  run.has_pricing = true;
  double t = 0;
  for (int e = 0; e < 2; ++e) {
    Endpoint ep;
    ep.name = e == 0 ? "r1serve-bf16" : "llama-server <q8>";
    ep.base_url = "http://127.0.0.1:800" + std::to_string(e) + "/v1";
    ep.model = "stories";
    run.endpoints.push_back(ep);
    PhaseResult p{"sequential", LoadMode::kSequential, {}, 0};
    for (int i = 0; i < 100; ++i) {
      Sample s;
      s.endpoint = ep.name;
      s.phase = "sequential";
      s.prompt_index = size_t(i % 20);
      s.run = size_t(i / 20);
      // A spread with a tail: deterministic, different per endpoint.
      double base = (e == 0 ? 900 : 1300) + 150 * std::sin(i * 0.7) + (i % 17 == 0 ? 900 : 0);
      s.start_ms = t;
      s.latency_ms = base;
      s.ttft_ms = 40 + 10 * e + 8 * std::cos(i * 1.3);
      for (int k = 0; k < 30; ++k) s.itl_ms.push_back(25 + 5 * e + 4 * std::sin(i + k) + (k == 7 ? 60 : 0));
      s.output_tokens = 31;
      s.input_tokens = 90;
      s.usage_reported = true;
      s.reasoning_tokens = 20;
      s.answer_tokens = 11;
      s.expected_answer = "18";
      s.predicted_answer = i % 3 ? "18" : "17";
      s.correct = i % 3 != 0;
      if (e == 1 && i == 50) {
        s.error_kind = "http_503";
        s.error_message = "POST http://127.0.0.1:8001/v1/chat/completions: HTTP 503: 'overloaded'";
      }
      t += base + 5;
      p.samples.push_back(s);
    }
    run.summaries.push_back(summarize(p, ep.name, ep.model, Pricing{e == 0 ? 1.2 : 0.9, 0.0005, 0.0015}));
    run.phases.push_back(std::move(p));
  }
  run.wall_s = t / 1000;
  return run;
}

TEST(ReportRender, HeadlessChromiumScreenshotWithoutConsoleErrors) {
  if (!std::filesystem::exists(kChromium))
    GTEST_SKIP() << kChromium
                 << " not installed (Debian package chromium; scripts/install-deps.sh installs it)";
  r1::test::TempDir d;
  std::string html = d.file("report.html"), png = d.file("report.png");
  write_html_report(html, synthetic_run());
  // Bounded by timeout(1); its own profile folder so parallel runs do not share one; --no-sandbox because CI
  // runs as root. Console messages go to stderr with --enable-logging=stderr.
  auto r = r1::test::run_command({"/usr/bin/timeout", "120", kChromium, "--headless", "--no-sandbox",
                                  "--disable-gpu", "--user-data-dir=" + d.file("profile"),
                                  "--enable-logging=stderr", "--v=0", "--window-size=1200,1800",
                                  "--screenshot=" + png, "file://" + html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(png)) << r.err;
  std::string bytes = r1::test::read_file(png);
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(bytes[at])) << 24) | (uint32_t(uint8_t(bytes[at + 1])) << 16) |
           (uint32_t(uint8_t(bytes[at + 2])) << 8) | uint32_t(uint8_t(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1200u);  // IHDR width
  EXPECT_EQ(be32(20), 1800u);  // IHDR height
  // A blank 1200×1800 page compresses to a few kB; tables, text and three plots take far more.
  EXPECT_GT(bytes.size(), 40000u);
  for (const char* bad : {"Uncaught", ":CONSOLE(", "Failed to load resource", "net::ERR_"})
    EXPECT_EQ(r.err.find(bad), std::string::npos) << bad << " in Chromium's log:\n" << r.err;
}

}  // namespace
}  // namespace r1::bench
