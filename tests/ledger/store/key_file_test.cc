// Key files: mode 0600, O_EXCL, refusal of group/other-readable files,
// PKCS#8 PEM readable by `openssl pkey`, no key bytes in errors, a failed
// directory sync fails the write.
#include "ledger/store/key_file.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/ed25519.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const NoteSigner> FixedSigner(const std::string& name,
                                              char fill) {
  auto key = Ed25519Signer::New(std::string(32, fill));
  EXPECT_TRUE(key.ok());
  return std::make_shared<const NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kAuditArch = 0;  // FailDirectoryOpens is not available
#endif

// Makes every openat(2) with O_DIRECTORY in this process fail with EACCES,
// as for a directory it may not read (root is not refused one), other
// opens untouched. A seccomp filter: no privileges needed, but it cannot be
// removed, so only in a child process. False when it did not take effect.
bool FailDirectoryOpens() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // The flags' low 32 bits (both architectures are little-endian).
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
               offsetof(struct seccomp_data, args) + 2 * sizeof(uint64_t)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_DIRECTORY, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
  if (kAuditArch == 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    return false;
  }
  const int fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  return fd < 0 && errno == EACCES;
}

TEST(KeyFileTest, WritesMode0600AndReadsBack) {
  TempDir dir;
  const std::string path = dir.Sub("log.key");
  auto signer = FixedSigner("cmo-up.example", 0x11);
  SEG_ASSERT_OK(WriteKeyFile(path, *signer));
  EXPECT_EQ(ModeOf(path), 0600u);
  SEG_ASSERT_OK_AND_ASSIGN(auto back, ReadKeyFile(path));
  EXPECT_EQ(back->name(), "cmo-up.example");
  EXPECT_EQ(back->signer().public_key(), signer->signer().public_key());
  EXPECT_EQ(back->Verifier().VerifierKey(), signer->Verifier().VerifierKey());
}

TEST(KeyFileTest, FormatIsNameLineThenRfc8410Pkcs8Pem) {
  TempDir dir;
  const std::string path = dir.Sub("k");
  SEG_ASSERT_OK(WriteKeyFile(path, *FixedSigner("n", 0x22)));
  const std::string text = Slurp(path);
  // RFC 8410 PKCS#8 prefix for Ed25519 followed by the 32-byte seed.
  const std::string der =
      std::string(
          "\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22"
          "\x04\x20",
          16) +
      std::string(32, 0x22);
  EXPECT_EQ(text,
            absl::StrCat("segledger-key-name: n\n"
                         "-----BEGIN PRIVATE KEY-----\n",
                         Base64Encode(der), "\n-----END PRIVATE KEY-----\n"));
}

TEST(KeyFileTest, OpensslReadsTheFile) {
  TempDir dir;
  const std::string path = dir.Sub("k");
  auto signer = FixedSigner("n", 0x33);
  SEG_ASSERT_OK(WriteKeyFile(path, *signer));
  const std::string out = dir.Sub("pub.der");
  const std::string cmd =
      absl::StrCat("openssl pkey -in ", path, " -pubout -outform DER -out ",
                   out, " 2>/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string pub_der = Slurp(out);
  ASSERT_EQ(pub_der.size(), 44u);  // SubjectPublicKeyInfo: 12 + 32 bytes
  const auto& pub = signer->signer().public_key();
  EXPECT_EQ(pub_der.substr(12),
            std::string(reinterpret_cast<const char*>(pub.data()), 32));
}

TEST(KeyFileTest, NeverOverwrites) {
  TempDir dir;
  const std::string path = dir.Sub("k");
  SEG_ASSERT_OK(WriteKeyFile(path, *FixedSigner("first", 1)));
  EXPECT_THAT(WriteKeyFile(path, *FixedSigner("second", 2)),
              StatusIs(absl::StatusCode::kAlreadyExists, path));
  SEG_ASSERT_OK_AND_ASSIGN(auto back, ReadKeyFile(path));
  EXPECT_EQ(back->name(), "first");
}

// The key file's directory entry is made durable by an fsync of the
// directory; when the directory cannot be opened for it, the write fails
// and the file is removed (it used to return OK, the entry perhaps lost at
// the next crash). The fsync's own failure takes the same path but is not
// tested: a filter cannot tell the directory's fsync from the file's.
TEST(KeyFileTest, UnsyncableDirectoryFailsTheWriteAndRemovesTheFile) {
  if (kAuditArch == 0) GTEST_SKIP() << "no seccomp arch for this CPU";
  TempDir dir;
  const std::string path = dir.Sub("log.key");
  auto signer = FixedSigner("cmo-up.example", 0x11);
  EXPECT_EXIT(
      {
        if (!FailDirectoryOpens()) {
          std::fprintf(stderr, "seccomp filter not in effect\n");
          std::_Exit(2);
        }
        absl::Status s = WriteKeyFile(path, *signer);
        std::fprintf(stderr, "status=%s exists=%d\n", s.ToString().c_str(),
                     ::access(path.c_str(), F_OK) == 0 ? 1 : 0);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "status=PERMISSION_DENIED: opening key directory .*: Permission "
      "denied exists=0");
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(KeyFileTest, RefusesGroupOrOtherReadableFile) {
  TempDir dir;
  const std::string path = dir.Sub("k");
  SEG_ASSERT_OK(WriteKeyFile(path, *FixedSigner("n", 0x44)));
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    absl::StatusOr<std::shared_ptr<const NoteSigner>> r = ReadKeyFile(path);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, path));
    char octal[8];
    snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(octal));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_THAT(ReadKeyFile(path), IsOk());
}

TEST(KeyFileTest, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT(ReadKeyFile(dir.Sub("absent")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(KeyFileTest, MalformedFilesAreRefusedWithoutKeyBytesInErrors) {
  TempDir dir;
  const std::string good_path = dir.Sub("good");
  SEG_ASSERT_OK(WriteKeyFile(good_path, *FixedSigner("n", 0x55)));
  const std::string good = Slurp(good_path);
  const std::string b64_line =
      good.substr(good.find("-----\n") + 6,
                  good.find("\n-----END") - (good.find("-----\n") + 6));
  // Every truncation is refused (or, once the END line is complete,
  // accepted) and no error ever quotes the base64 key.
  for (size_t cut = 0; cut <= good.size(); ++cut) {
    const std::string path = dir.Sub(absl::StrCat("cut", cut));
    {
      std::ofstream out(path, std::ios::binary);
      out << good.substr(0, cut);
    }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto r = ReadKeyFile(path);
    if (cut >= good.size() - 1) {
      EXPECT_THAT(r, IsOk()) << cut;
      continue;
    }
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << cut;
    EXPECT_THAT(std::string(r.status().message()),
                Not(HasSubstr(b64_line.substr(0, 12))));
  }
}

TEST(KeyFileTest, CreateKeyFileGeneratesDistinctKeys) {
  TempDir dir;
  SEG_ASSERT_OK_AND_ASSIGN(auto a, CreateKeyFile(dir.Sub("a"), "a"));
  SEG_ASSERT_OK_AND_ASSIGN(auto b, CreateKeyFile(dir.Sub("b"), "b"));
  EXPECT_NE(a->signer().public_key(), b->signer().public_key());
  EXPECT_EQ(ModeOf(dir.Sub("a")), 0600u);
  EXPECT_THAT(CreateKeyFile(dir.Sub("bad"), "has space"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace segledger::store
