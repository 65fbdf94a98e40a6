// libFuzzer target: reading and verifying an audit bundle. The input is an
// archive (fuzz_common.h) of bundle files served by an in-memory Fetcher;
// VerifyBundle must turn any damage into findings or an input error, never
// a crash. Seeds: a real bundle of the fixture-sized log.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_common.h"
#include "tools/bundle_verify.h"
#include "tools/fetcher.h"

namespace {

class MapFetcher final : public segledger::tools::Fetcher {
 public:
  explicit MapFetcher(std::map<std::string, std::string> files)
      : files_(std::move(files)) {}
  absl::StatusOr<std::string> Fetch(absl::string_view rel) const override {
    auto it = files_.find(std::string(rel));
    if (it == files_.end()) return absl::NotFoundError(rel);
    return it->second;
  }
  std::string Describe() const override { return "fuzz input"; }
  absl::StatusOr<std::vector<std::string>> ListRoot() const override {
    std::set<std::string> dirs;
    for (const auto& [path, content] : files_) {
      const size_t slash = path.find('/');
      if (slash != std::string::npos) dirs.insert(path.substr(0, slash));
    }
    return std::vector<std::string>(dirs.begin(), dirs.end());
  }
  absl::StatusOr<std::vector<std::string>> ListFiles(
      absl::string_view rel) const override {
    const std::string prefix = absl::StrCat(rel, "/");
    std::vector<std::string> out;
    for (auto it = files_.lower_bound(prefix);
         it != files_.end() && absl::StartsWith(it->first, prefix); ++it) {
      out.push_back(it->first);
    }
    return out;
  }

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  MapFetcher fetcher(fuzz::ParseArchive(
      absl::string_view(reinterpret_cast<const char*>(data), size)));
  tools::VerifyOptions options;
  options.keep_entries = (size & 1) != 0;
  tools::BundleContents contents;
  (void)tools::VerifyBundle(fetcher, options, &contents);
  return 0;
}
