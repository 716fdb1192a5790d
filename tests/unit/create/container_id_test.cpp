#include <gtest/gtest.h>

#include "create/pipeline.hpp"

namespace hrun::create {
namespace {

TEST(ContainerId, AcceptsRuncIds) {
    for (const char* id : {"a", "web-1", "abc_DEF.ghi+jkl", "0123456789"})
        EXPECT_TRUE(validate_container_id(id)) << id;
}

TEST(ContainerId, RejectsPathsAndOddCharacters) {
    for (const char* id : {"", ".", "..", "../x", "a/b", "a b", "a\nb", "$(x)"}) {
        auto st = validate_container_id(id);
        ASSERT_FALSE(st) << id;
        EXPECT_EQ(st.error().field, "id");
    }
    EXPECT_FALSE(validate_container_id(std::string(1025, 'a')));
}

TEST(ContainerId, GeneratedIdsAreValidAndDistinct) {
    std::string a = generate_container_id(), b = generate_container_id();
    EXPECT_TRUE(validate_container_id(a));
    EXPECT_EQ(a.rfind("hrun-", 0), 0u);
    EXPECT_EQ(a.size(), 17u);
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace hrun::create
