#include "ledger/domain/quantity.h"

#include "gtest/gtest.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using ::segledger::testing::StatusIs;

TEST(DecimalTest, ParsesAndPrintsCanonically) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {{"12.500", "12.5"},
               {"0", "0"},
               {"0.000001", "0.000001"},
               {"-3.25", "-3.25"},
               {"+7", "7"},
               {"1000000", "1000000"},
               {"00012.0", "12"},
               {"9223372036854.775807", "9223372036854.775807"}};
  for (const auto& c : cases) {
    SEG_ASSERT_OK_AND_ASSIGN(Decimal d, Decimal::Parse(c.in));
    EXPECT_EQ(d.ToString(), c.out) << c.in;
  }
}

TEST(DecimalTest, RefusesNonDecimals) {
  for (const char* bad : {"", "1.", ".5", "1.2.3", "1e3", "0x10", "1,5",
                          "1.0000001", "NaN", "12 ", "99999999999999",
                          // Regression: overflowed int64 micros.
                          "9999999999999.999999"}) {
    EXPECT_THAT(Decimal::Parse(bad, "dispatch.q"),
                StatusIs(absl::StatusCode::kInvalidArgument, "dispatch.q"))
        << bad;
  }
}

TEST(DecimalTest, ArithmeticIsExactAndChecksOverflow) {
  Decimal a = *Decimal::Parse("0.1"), b = *Decimal::Parse("0.2");
  EXPECT_EQ(a.Add(b)->ToString(), "0.3");  // never 0.30000000000000004
  EXPECT_EQ(b.Sub(a)->ToString(), "0.1");
  EXPECT_EQ(Decimal::Parse("1.5")->Mul(*Decimal::Parse("2.5"))->ToString(),
            "3.75");
  EXPECT_EQ(Decimal::Parse("1")->Div(*Decimal::Parse("3"))->ToString(),
            "0.333333");
  EXPECT_THAT(a.Div(Decimal()), StatusIs(absl::StatusCode::kInvalidArgument));
  Decimal big = Decimal::FromMicros(INT64_MAX);
  EXPECT_THAT(big.Add(a), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Decimal::FromMicros(INT64_MIN).Sub(a),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(QuantityTest, ConvertsWithinADimensionExactly) {
  Quantity kg{*Decimal::Parse("1.25"), "KGM"};
  EXPECT_EQ(ConvertTo(kg, "GRM", std::nullopt)->ToString(), "1250");
  EXPECT_EQ(ConvertTo(kg, "MGM", std::nullopt)->ToString(), "1250000");
  Quantity ml{*Decimal::Parse("250"), "MLT"};
  EXPECT_EQ(ConvertTo(ml, "LTR", std::nullopt)->ToString(), "0.25");
  Quantity tiny{*Decimal::Parse("0.000001"), "MGM"};
  EXPECT_THAT(ConvertTo(tiny, "KGM", std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(QuantityTest, MassVersusVolumeNeedsADensity) {
  Quantity l{*Decimal::Parse("2"), "LTR"};
  EXPECT_THAT(ConvertTo(l, "KGM", std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition, "density"));
  EXPECT_EQ(ConvertTo(l, "KGM", *Decimal::Parse("1.05"))->ToString(), "2.1");
  Quantity g{*Decimal::Parse("105"), "GRM"};
  EXPECT_EQ(ConvertTo(g, "MLT", *Decimal::Parse("1.05"))->ToString(), "100");
  Quantity vials{*Decimal::Parse("3"), "H87"};
  EXPECT_THAT(ConvertTo(vials, "KGM", *Decimal::Parse("1")),
              StatusIs(absl::StatusCode::kFailedPrecondition, "count"));
}

TEST(QuantityTest, ParsesProtoQuantityNamingThePath) {
  v1::Quantity q;
  q.set_value("-1");
  q.set_unit("KGM");
  EXPECT_THAT(ParseQuantity(q, "lot_produced.quantity"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "lot_produced.quantity.value: negative"));
  q.set_value("1");
  q.set_unit("kg");
  EXPECT_THAT(ParseQuantity(q, "lot_produced.quantity"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "lot_produced.quantity.unit: unit 'kg'"));
}

}  // namespace
}  // namespace segledger::domain
