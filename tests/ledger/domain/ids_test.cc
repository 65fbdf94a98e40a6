#include "ledger/domain/ids.h"

#include "gtest/gtest.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;

TEST(IdentifierTest, AcceptsEpcUrnsDigitalLinksAndHttps) {
  // EPC URN examples in the style of GS1 TDS 2.x section 6.
  for (const char* ok : {
           "urn:epc:class:lgtin:4012345.012345.998877",
           "urn:epc:class:lgtin:4012345.012345.AB%2F12",
           "urn:epc:id:sgln:4012345.00001.0",
           "urn:epc:id:sgtin:0614141.812345.6789",
           "urn:epc:id:sscc:0614141.1234567890",
           "https://id.gs1.org/01/09520123456788/10/ABC123",
           "https://mah.example/lot/DS-001",
           "https://example.com/01/09520123456788",
       }) {
    EXPECT_THAT(ValidateIdentifier(ok), IsOk()) << ok;
  }
}

TEST(IdentifierTest, RefusesEverythingElse) {
  for (const char* bad : {
           "",
           "lot-1",
           "http://mah.example/lot/1",
           "urn:epc:class:lgtin:401.1.x",
           "urn:epc:class:lgtin:4012345.012345.",
           "urn:epc:id:foo:4012345.1",
           "urn:epc:id:sgln:12.1.0",
           "https://localhost/lot",
           "https://mah.example/lot 1",
           "https://id.gs1.org/01/09520123456789",
           "https://id.gs1.org/01/123",
           "urn:epc:class:lgtin:4012345.012345.a b",
       }) {
    EXPECT_THAT(ValidateIdentifier(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(IdentifierTest, Gs1CheckDigit) {
  EXPECT_TRUE(Gs1CheckDigitOk("09520123456788"));  // GS1 GTIN-14 example
  EXPECT_TRUE(Gs1CheckDigitOk("4006381333931"));   // EAN-13 example
  EXPECT_FALSE(Gs1CheckDigitOk("4006381333932"));
}

TEST(IdentifierTest, UnifiedSocialCreditCode) {
  std::string first17 = "91310000MA1K00000";
  std::string code = first17 + UsccCheckChar(first17);
  EXPECT_THAT(ValidateUnifiedSocialCreditCode(code), IsOk());
  // Every single-character change of a valid code is refused.
  const std::string alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  for (size_t i = 0; i < code.size(); ++i) {
    for (char c : alphabet) {
      if (c == code[i]) continue;
      std::string m = code;
      m[i] = c;
      EXPECT_FALSE(ValidateUnifiedSocialCreditCode(m).ok()) << m;
    }
  }
  EXPECT_FALSE(ValidateUnifiedSocialCreditCode("91310000MA1K0000I0").ok());
  EXPECT_FALSE(ValidateUnifiedSocialCreditCode("short").ok());
}

TEST(IdentifierTest, TraceCodeAndProvince) {
  EXPECT_THAT(ValidateTraceCode("81234567890123456789"), IsOk());
  EXPECT_FALSE(ValidateTraceCode("8123456789012345678").ok());
  EXPECT_FALSE(ValidateTraceCode("8123456789012345678X").ok());
  EXPECT_THAT(ValidateProvince("CN-SH"), IsOk());
  EXPECT_THAT(ValidateProvince("DE-BY"), IsOk());
  EXPECT_FALSE(ValidateProvince("Shanghai").ok());
  EXPECT_FALSE(ValidateProvince("cn-sh").ok());
}

}  // namespace
}  // namespace segledger::domain
