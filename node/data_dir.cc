#include "node/data_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "ledger/status_macros.h"
#include "ledger/store/key_file.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/tiles.h"

namespace segledger::node {
namespace {

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) {
      first = absl::StrCat(line + 1, ":", column + 1, ": ", message);
    }
  }
  std::string first;
};

}  // namespace

std::string DbDir(const std::string& d) { return d + "/db"; }
std::string KeyDir(const std::string& d) { return d + "/keys"; }

std::string KeyFilePath(const std::string& key_dir,
                        const std::string& key_name) {
  return absl::StrCat(key_dir, "/", LogDirName(key_name), ".key");
}
std::string NodeFile(const std::string& d) { return d + "/node.textproto"; }

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  }
  bool ok = write(fd, text.data(), text.size()) ==
                static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {
absl::StatusOr<std::string> InitDataDirSteps(const std::string& data_dir,
                                             const std::string& origin,
                                             const std::string& key_name) {
  // The origin is the first line of every checkpoint and, escaped, a
  // directory name in audit bundles (C2SP tlog-checkpoint, tlog-tiles).
  if (origin.empty()) return absl::InvalidArgumentError("--origin: empty");
  if (origin == "." || origin == ".." ||
      origin.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--origin: \"", absl::CEscape(origin),
                     "\" must not be . or .. or contain white space"));
  }
  if (key_name.empty()) return absl::InvalidArgumentError("--key-name: empty");
  if (Exists(NodeFile(data_dir)) || Exists(DbDir(data_dir))) {
    return absl::AlreadyExistsError(
        absl::StrCat("--data: ", data_dir, " already holds a node"));
  }
  SEG_RETURN_IF_ERROR(MakeDir(data_dir));
  SEG_RETURN_IF_ERROR(MakeDir(KeyDir(data_dir)));
  SEG_ASSIGN_OR_RETURN(
      std::shared_ptr<const NoteSigner> signer,
      store::CreateKeyFile(KeyFilePath(KeyDir(data_dir), key_name), key_name));
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::RocksDbKv> kv,
                       store::RocksDbKv::Open(DbDir(data_dir)));
  store::LogStoreOptions options;
  options.origin = origin;
  options.checkpoint_interval = absl::ZeroDuration();
  SEG_ASSIGN_OR_RETURN(
      std::unique_ptr<store::LogStore> log,
      store::LogStore::Open(std::move(kv), {signer}, std::move(options)));
  SEG_RETURN_IF_ERROR(log->Close());
  v1::NodeConfig file;
  file.set_origin(origin);
  std::string text;
  google::protobuf::TextFormat::PrintToString(file, &text);
  SEG_RETURN_IF_ERROR(WriteFileAtomically(
      NodeFile(data_dir),
      "# Written by segledgerd init. Flags and --config override it.\n" +
          text));
  return signer->Verifier().VerifierKey();
}
}  // namespace

// A failed init leaves nothing behind: it removes what it created (the
// whole directory when it did not exist before, else keys/ and db/).
absl::StatusOr<std::string> InitDataDir(const std::string& data_dir,
                                        const std::string& origin,
                                        const std::string& key_name) {
  const bool existed = Exists(data_dir);
  const bool had_keys = Exists(KeyDir(data_dir));
  absl::StatusOr<std::string> vkey =
      InitDataDirSteps(data_dir, origin, key_name);
  if (!vkey.ok() && !absl::IsAlreadyExists(vkey.status())) {
    std::error_code ec;
    if (!existed) {
      std::filesystem::remove_all(data_dir, ec);
    } else {
      if (!had_keys) std::filesystem::remove_all(KeyDir(data_dir), ec);
      std::filesystem::remove_all(DbDir(data_dir), ec);
    }
  }
  return vkey;
}

absl::StatusOr<std::vector<std::shared_ptr<const NoteSigner>>> LoadSigners(
    const std::string& data_dir) {
  std::string dir = KeyDir(data_dir);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("key directory ", dir, ": ", std::strerror(errno)));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (absl::EndsWith(e->d_name, ".key")) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::shared_ptr<const NoteSigner>> signers;
  for (const std::string& n : names) {
    SEG_ASSIGN_OR_RETURN(std::shared_ptr<const NoteSigner> s,
                         store::ReadKeyFile(dir + "/" + n));
    signers.push_back(std::move(s));
  }
  if (signers.empty()) {
    return absl::NotFoundError(absl::StrCat("no key files in ", dir));
  }
  return signers;
}

namespace {

// The text-format parser quotes the token it stopped at ('no field named
// "X"', "got: X"): when the file is a key by mistake, X can be the key's
// base64 (its identifier part, up to the first '+' or '/'). Runs of 24 or
// more base64 characters - longer than any NodeConfig field name, and an
// Ed25519 PKCS#8 body's constant prefix is 20 - are replaced, so no secret
// reaches a log or stderr (issue 10, tests/node/secrets_test.cc).
std::string RedactLongTokens(absl::string_view text) {
  auto keyish = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' ||
           c == '/' || c == '=' || c == '_' || c == '-';
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && keyish(text[j])) ++j;
    if (j - i >= 24) {
      absl::StrAppend(&out, "<", j - i, " characters not shown>");
    } else {
      out.append(text.data() + i, j - i);
    }
    if (j < text.size()) out.push_back(text[j]);
    i = j + 1;
  }
  return out;
}

// A path that holds a newline is file contents (a PEM key pasted into the
// configuration): not repeated in the message.
std::string ShownPath(const std::string& path) {
  if (path.find('\n') == std::string::npos) {
    return absl::StrCat("\"", path, "\"");
  }
  return "(a value holding a newline: file contents instead of a path?)";
}

}  // namespace

absl::StatusOr<v1::NodeConfig> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(
        "config ",
        path.find('\n') == std::string::npos ? path : ShownPath(path),
        ": missing"));
  std::stringstream ss;
  ss << in.rdbuf();
  google::protobuf::TextFormat::Parser parser;
  Collector errors;
  parser.RecordErrorsTo(&errors);
  v1::NodeConfig config;
  if (!parser.ParseFromString(ss.str(), &config)) {
    if (absl::StrContains(ss.str(), "PRIVATE KEY-----") ||
        absl::StrContains(ss.str(), store::kKeyNameHeader)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config ", path, ": a private key file, not a NodeConfig"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ":", RedactLongTokens(errors.first)));
  }
  return config;
}

absl::StatusOr<std::string> ReadTextFile(absl::string_view field,
                                         const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot read ", ShownPath(path)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace segledger::node
