// Test helpers: Status matchers and temporary directories.
//
// Debian's Abseil has no absl/status/status_matchers.h; IsOk() and
// StatusIs() are named as there so a later Abseil is a rename.
#ifndef SEGLEDGER_TESTS_SUPPORT_TEST_UTIL_H_
#define SEGLEDGER_TESTS_SUPPORT_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace segledger::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, substr,
           "has status code " + ::testing::PrintToString(code) +
               " and message containing " + ::testing::PrintToString(substr)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         std::string(s.message()).find(substr) != std::string::npos;
}

#define SEG_ASSERT_OK(expr) ASSERT_THAT((expr), ::segledger::testing::IsOk())
#define SEG_EXPECT_OK(expr) EXPECT_THAT((expr), ::segledger::testing::IsOk())
// Asserts `rexpr` (a StatusOr) is OK and moves its value into `lhs`.
#define SEG_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  SEG_ASSERT_OK_AND_ASSIGN_IMPL_(            \
      SEG_TEST_CONCAT_(seg_test_statusor_, __LINE__), lhs, rexpr)
#define SEG_TEST_CONCAT_INNER_(x, y) x##y
#define SEG_TEST_CONCAT_(x, y) SEG_TEST_CONCAT_INNER_(x, y)
#define SEG_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  ASSERT_TRUE(statusor.ok()) << statusor.status();           \
  lhs = std::move(statusor).value()

// A fresh directory under $TMPDIR (or /tmp), removed recursively when the
// object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Reads a file from tests/testdata (fails the test if missing).
std::string ReadTestData(const std::string& relative_path);

}  // namespace segledger::testing

#endif  // SEGLEDGER_TESTS_SUPPORT_TEST_UTIL_H_
