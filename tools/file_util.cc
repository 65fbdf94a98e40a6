#include "tools/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace segledger::tools {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int e = errno;
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(msg);
  if (e == EEXIST || e == ENOTEMPTY) return absl::FailedPreconditionError(msg);
  return absl::InternalError(msg);
}

struct FdCloser {
  void operator()(int* fd) const {
    if (*fd >= 0) ::close(*fd);
    delete fd;
  }
};
using UniqueFd = std::unique_ptr<int, FdCloser>;

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  UniqueFd fd(new int(::open(path.c_str(), O_RDONLY | O_CLOEXEC)));
  if (*fd < 0) return Errno("open", path);
  struct stat st;
  if (::fstat(*fd, &st) != 0) return Errno("stat", path);
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  }
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(*fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::Status WriteStringToFile(const std::string& path, absl::string_view data,
                               bool sync) {
  std::error_code ec;
  // A bare file name ("report.html") has no parent to create.
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("mkdir for ", path, ": ", ec.message()));
  }
  UniqueFd fd(new int(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)));
  if (*fd < 0) return Errno("create", path);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(*fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write", path);
    off += static_cast<size_t>(n);
  }
  if (sync && ::fsync(*fd) != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& path) {
  UniqueFd fd(
      new int(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  if (*fd < 0) return Errno("open dir", path);
  if (::fsync(*fd) != 0) return Errno("fsync dir", path);
  return absl::OkStatus();
}

absl::Status RenameNoReplace(const std::string& from, const std::string& to) {
  // rename(2) replaces an empty directory silently; refuse any existing
  // target first (the window is harmless: the caller created `from`).
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(to, " already exists"));
  }
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename to", to);
  return absl::OkStatus();
}

}  // namespace segledger::tools
