// segaudit export: a bundle from stopped nodes' data directories.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tools/bundle_writer.h"
#include "tools/commands.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

// The RocksDB directory of a node data dir: DIR/db when present, else DIR.
std::string DbDir(const std::string& data) {
  std::error_code ec;
  std::string db = data + "/db";
  return std::filesystem::is_directory(db, ec) ? db : data;
}

// Key files of a node data dir: *.key directly in DIR and in DIR/keys.
std::vector<std::string> KeyFiles(const std::string& data) {
  std::vector<std::string> out;
  for (const std::string& dir : {data, data + "/keys"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.is_regular_file() &&
          absl::EndsWith(e.path().filename().string(), ".key")) {
        out.push_back(e.path().string());
      }
    }
  }
  return out;
}

}  // namespace

int RunExport(const ExportFlags& flags) {
  std::vector<OpenedStore> stores;
  std::vector<std::unique_ptr<StoreExportSource>> sources;
  std::vector<LogExportSource*> ptrs;
  for (const std::string& data : flags.data_dirs) {
    std::vector<std::string> keys = KeyFiles(data);
    keys.insert(keys.end(), flags.key_files.begin(), flags.key_files.end());
    absl::StatusOr<OpenedStore> opened = OpenStoreForExport(DbDir(data), keys);
    if (!opened.ok()) {
      std::fprintf(stderr, "segaudit: %s: %s\n", data.c_str(),
                   std::string(opened.status().message()).c_str());
      return kExitUsage;
    }
    stores.push_back(*std::move(opened));
    sources.push_back(
        std::make_unique<StoreExportSource>(stores.back().store.get()));
    ptrs.push_back(sources.back().get());
  }
  absl::Status s = WriteBundle(ptrs, flags.out);
  if (!s.ok()) {
    std::fprintf(stderr, "segaudit: export: %s\n",
                 std::string(s.message()).c_str());
    return kExitUsage;
  }
  std::printf("%s\n", flags.out.c_str());
  return kExitOk;
}

}  // namespace segledger::tools
