#include <gtest/gtest.h>

#include <string>

#include "core/checksum.hpp"

namespace hepgnn {
namespace {

// Reference values from Python's zlib.crc32, the tool a user would check with.
TEST(Crc32, MatchesZlib) {
    EXPECT_EQ(crc32(""), 0x00000000u);
    EXPECT_EQ(crc32("a"), 0xe8b7be43u);
    EXPECT_EQ(crc32("123456789"), 0xcbf43926u);  // the standard check value
    EXPECT_EQ(crc32("hello world, hepgnn!"), 0xf1914950u);
    std::string bytes;
    for (int r = 0; r < 3; ++r)
        for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    EXPECT_EQ(crc32(bytes), 0xb0c0df2au);
}

TEST(Crc32, ContinuesAcrossPiecesOfAnyLength) {
    std::string bytes;
    for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<char>(i * 37 + 11));
    const uint32_t whole = crc32(bytes);
    for (size_t cut : {0u, 1u, 2u, 3u, 5u, 499u, 999u, 1000u}) {
        const std::string_view a(bytes.data(), cut), b(bytes.data() + cut, bytes.size() - cut);
        EXPECT_EQ(crc32(b, crc32(a)), whole) << "cut at " << cut;
    }
    std::string flipped = bytes;
    flipped[500] ^= 1;
    EXPECT_NE(crc32(flipped), whole);
}

}  // namespace
}  // namespace hepgnn
