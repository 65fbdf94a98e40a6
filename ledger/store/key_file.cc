#include "ledger/store/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ledger/base64.h"
#include "ledger/ed25519.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"

namespace segledger::store {
namespace {

// RFC 8410 section 7: PKCS#8 OneAsymmetricKey for Ed25519, version 0,
// algorithm id-Ed25519 (1.3.101.112), privateKey = OCTET STRING(seed).
constexpr char kPkcs8Prefix[] =
    "\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20";
constexpr size_t kPkcs8PrefixSize = sizeof(kPkcs8Prefix) - 1;
static_assert(kPkcs8PrefixSize == 16, "RFC 8410 Ed25519 PKCS#8 prefix");
constexpr absl::string_view kBegin = "-----BEGIN PRIVATE KEY-----";
constexpr absl::string_view kEnd = "-----END PRIVATE KEY-----";

absl::Status ErrnoStatus(absl::string_view what, const std::string& path,
                         int err) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EEXIST) return absl::AlreadyExistsError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::UnavailableError(msg);
}

bool ValidKeyName(absl::string_view name) {
  return CheckNoteKeyName(name).ok();
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("writing key file", path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Makes the new directory entry durable: without it a crash can lose the
// file although its contents were fsynced.
absl::Status SyncParentDir(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening key directory", dir, errno);
  absl::Status s;
  if (::fsync(fd) != 0) s = ErrnoStatus("fsync of key directory", dir, errno);
  ::close(fd);
  return s;
}

absl::StatusOr<SecretBytes> ReadAll(int fd, const std::string& path) {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading key file", path, errno);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > 64 * 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat("key file ", path, " is larger than 64 KiB"));
    }
  }
  std::memset(buf, 0, sizeof(buf));
  return SecretBytes(std::move(data));
}

// Parses the file text; errors name the path and the line kind only.
absl::StatusOr<std::shared_ptr<const NoteSigner>> ParseKeyFile(
    absl::string_view text, const std::string& path) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  auto bad = [&path](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": ", why));
  };
  if (lines.size() < 4) return bad("too few lines");
  if (!absl::StartsWith(lines[0], kKeyNameHeader)) {
    return bad(
        absl::StrCat("first line must start with \"", kKeyNameHeader, "\""));
  }
  std::string name(lines[0].substr(sizeof(kKeyNameHeader) - 1));
  if (!ValidKeyName(name)) return bad("invalid key name");
  if (lines[1] != kBegin) return bad("missing BEGIN PRIVATE KEY line");
  if (lines.back() != kEnd) return bad("missing END PRIVATE KEY line");
  std::string b64;
  for (size_t i = 2; i + 1 < lines.size(); ++i) absl::StrAppend(&b64, lines[i]);
  SecretBytes b64_secret(std::move(b64));
  absl::StatusOr<std::string> der = Base64Decode(b64_secret.view());
  if (!der.ok()) return bad("private key is not valid base64");
  SecretBytes der_secret(std::move(*der));
  if (der_secret.size() != kPkcs8PrefixSize + kEd25519SeedSize ||
      der_secret.view().substr(0, kPkcs8PrefixSize) !=
          absl::string_view(kPkcs8Prefix, kPkcs8PrefixSize)) {
    return bad("private key is not an RFC 8410 Ed25519 PKCS#8 key");
  }
  auto signer = Ed25519Signer::New(der_secret.view().substr(kPkcs8PrefixSize));
  if (!signer.ok()) return bad("invalid Ed25519 seed");
  return std::make_shared<const NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(std::move(*signer)));
}

}  // namespace

absl::Status WriteKeyFile(const std::string& path, const NoteSigner& signer) {
  if (!ValidKeyName(signer.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("key name \"", signer.name(),
                     "\" must be non-empty without spaces "
                     "or '+'"));
  }
  std::string der(kPkcs8Prefix, kPkcs8PrefixSize);
  der.append(signer.signer().seed().view().data(),
             signer.signer().seed().size());
  SecretBytes der_secret(std::move(der));
  SecretBytes text(absl::StrCat(kKeyNameHeader, signer.name(), "\n", kBegin,
                                "\n", Base64Encode(der_secret.view()), "\n",
                                kEnd, "\n"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("creating key file", path, errno);
  absl::Status s;
  if (::fchmod(fd, 0600) != 0) s = ErrnoStatus("chmod 600", path, errno);
  if (s.ok()) s = WriteAll(fd, text.view(), path);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync", path, errno);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("closing", path, errno);
  if (s.ok()) s = SyncParentDir(path);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const NoteSigner>> ReadKeyFile(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening key file", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat of key file", path, err);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "key file %s has mode %04o: group or others may access it; run "
        "chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  absl::StatusOr<SecretBytes> text = ReadAll(fd, path);
  ::close(fd);
  if (!text.ok()) return text.status();
  return ParseKeyFile(text->view(), path);
}

absl::StatusOr<std::shared_ptr<const NoteSigner>> CreateKeyFile(
    const std::string& path, const std::string& name) {
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<Ed25519Signer> key,
                       Ed25519Signer::Generate());
  auto signer = std::make_shared<const NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(std::move(key)));
  SEG_RETURN_IF_ERROR(WriteKeyFile(path, *signer));
  return std::shared_ptr<const NoteSigner>(signer);
}

}  // namespace segledger::store
