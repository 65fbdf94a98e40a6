#include "ledger/json_string.h"

#include <string>

#include "gtest/gtest.h"

namespace segledger {
namespace {

TEST(JsonStringTest, EscapesWhatRfc8259Requires) {
  EXPECT_EQ(JsonEscape("plain/text é"), "plain/text é");
  EXPECT_EQ(JsonEscape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(JsonEscape("l1\nl2\r\t"), "l1\\nl2\\r\\t");
  EXPECT_EQ(JsonEscape(std::string("\x00\x01\x1f", 3)),
            "\\u0000\\u0001\\u001f");
  EXPECT_EQ(JsonQuote("x\"y"), "\"x\\\"y\"");
  EXPECT_EQ(JsonQuote(""), "\"\"");
}

}  // namespace
}  // namespace segledger
