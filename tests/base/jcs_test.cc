// RFC 8785 (JCS): the examples of the RFC itself.

#include "base/jcs.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <bit>
#include <cstdint>

namespace tally {
namespace {

std::string of_bits(std::uint64_t bits) {
  return canonical_json(boost::json::value(std::bit_cast<double>(bits)));
}

TEST(jcs, numbers_are_written_as_ecmascript_writes_them) {  // RFC 8785 Appendix B
  EXPECT_EQ(of_bits(0x0000000000000000), "0");
  EXPECT_EQ(of_bits(0x8000000000000000), "0");
  EXPECT_EQ(of_bits(0x0000000000000001), "5e-324");
  EXPECT_EQ(of_bits(0x8000000000000001), "-5e-324");
  EXPECT_EQ(of_bits(0x7fefffffffffffff), "1.7976931348623157e+308");
  EXPECT_EQ(of_bits(0xffefffffffffffff), "-1.7976931348623157e+308");
  EXPECT_EQ(of_bits(0x4340000000000000), "9007199254740992");
  EXPECT_EQ(of_bits(0xc340000000000000), "-9007199254740992");
  EXPECT_EQ(of_bits(0x4430000000000000), "295147905179352830000");
  EXPECT_EQ(of_bits(0x44b52d02c7e14af5), "9.999999999999997e+22");
  EXPECT_EQ(of_bits(0x44b52d02c7e14af6), "1e+23");
  EXPECT_EQ(of_bits(0x444b1ae4d6e2ef4f), "999999999999999900000");
  EXPECT_EQ(of_bits(0x444b1ae4d6e2ef50), "1e+21");
  EXPECT_EQ(of_bits(0x3eb0c6f7a0b5ed8c), "9.999999999999997e-7");
  EXPECT_EQ(of_bits(0x3eb0c6f7a0b5ed8d), "0.000001");
  EXPECT_EQ(of_bits(0x41b3de4355555553), "333333333.3333332");
  EXPECT_EQ(of_bits(0x41b3de4355555554), "333333333.33333325");
  EXPECT_EQ(of_bits(0x41b3de4355555555), "333333333.3333333");
  EXPECT_EQ(of_bits(0x41b3de4355555556), "333333333.3333334");
  EXPECT_EQ(of_bits(0x41b3de4355555557), "333333333.33333343");
  EXPECT_EQ(of_bits(0xbecbf647612f3696), "-0.0000033333333333333333");
  EXPECT_EQ(of_bits(0x43143ff3c1cb0959), "1424953923781206.2");
  EXPECT_EQ(canonical_json(boost::json::value(std::int64_t{-42})), "-42");
}

TEST(jcs, the_rfc_example_object) {  // RFC 8785 3.2.2
  auto v = boost::json::parse(
      R"({"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],)"
      R"( "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",)"
      R"( "literals": [null, true, false]})");
  // Boost.JSON 1.81 does not round 333333333.33333329 correctly when parsing
  // (it has no precise mode yet): the double it stands for, by its bits.
  v.as_object()["numbers"].as_array()[0] = std::bit_cast<double>(std::uint64_t{0x41b3de4355555555});
  EXPECT_EQ(canonical_json(v),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(jcs, members_sort_by_utf16_code_units) {  // RFC 8785 3.2.3
  const auto v = boost::json::parse(
      "{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew Letter "
      "Dalet With Dagesh\", \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", "
      "\"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}");
  const auto s = canonical_json(v);
  std::vector<std::string> order;
  for (const char* name :
       {"Carriage Return", "One", "Control", "Latin Small", "Euro Sign", "Emoji", "Hebrew Letter"})
    order.emplace_back(name);
  std::size_t at = 0;
  for (const auto& name : order) {
    const auto found = s.find(name, at);
    ASSERT_NE(found, std::string::npos) << name << " out of order in " << s;
    at = found;
  }
}

// What RFC 8785 is defined for, I-JSON, is what a reader of Tally's events
// takes: anything else has no canonical form (hash_to_append, issue #27).
TEST(i_json, a_string_that_is_not_utf8_or_an_integer_past_2_53_has_no_canonical_form) {
  std::string problem;
  auto ok = canonical_i_json(boost::json::parse(R"({"a":[1,"x"],"n":9007199254740991})"), problem);
  ASSERT_TRUE(ok) << problem;
  EXPECT_EQ(*ok, R"({"a":[1,"x"],"n":9007199254740991})");

  boost::json::object o;
  o["data"] = boost::json::object{{"name", "caf\xe9"}};
  EXPECT_FALSE(canonical_i_json(o, problem));
  EXPECT_EQ(problem, "data.name: is not valid UTF-8");

  boost::json::object big;
  big["lines"] = boost::json::array{boost::json::object{{"amount", std::int64_t{1} << 53}}};
  EXPECT_FALSE(canonical_i_json(big, problem));
  EXPECT_EQ(problem, "lines[0].amount: is an integer beyond 2^53-1");
  big["lines"] = boost::json::array{boost::json::object{{"amount", -(std::int64_t{1} << 53)}}};
  EXPECT_FALSE(canonical_i_json(big, problem));
  boost::json::object neg;
  neg["n"] = -((std::int64_t{1} << 53) - 1);
  EXPECT_TRUE(canonical_i_json(neg, problem)) << problem;
}

}  // namespace
}  // namespace tally
