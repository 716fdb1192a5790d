// The sync protocol over a real SOCK_SEQPACKET pair: boundaries, EOF and type checks.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "create/sync.hpp"
#include "hrun/fd.hpp"

namespace hrun::create {
namespace {

struct Pair {
    UniqueFd a, b;
    Pair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

TEST(Sync, MessagesKeepTheirBoundariesAndPayload) {
    Pair p;
    ASSERT_EQ(sync_send(p.a.get(), SyncType::ContainerPid, 4242), 0);
    SyncMsg err;
    err.type = SyncType::Error;
    err.error = child_fail("mounts[1].destination", "resolves outside the rootfs", EXDEV).error;
    ASSERT_EQ(sync_send(p.a.get(), err), 0);

    SyncMsg got;
    ASSERT_EQ(sync_recv(p.b.get(), got), 0);
    EXPECT_EQ(got.type, SyncType::ContainerPid);
    EXPECT_EQ(got.pid, 4242);
    ASSERT_EQ(sync_recv(p.b.get(), got), 0);
    EXPECT_EQ(got.type, SyncType::Error);
    EXPECT_STREQ(got.error.field, "mounts[1].destination");
    EXPECT_EQ(got.error.err, EXDEV);
}

TEST(Sync, PeerCloseIsEpipe) {
    Pair p;
    p.a.reset();
    SyncMsg got;
    EXPECT_EQ(sync_recv(p.b.get(), got), -EPIPE);
}

TEST(Sync, UnexpectedTypeIsAProtocolError) {
    Pair p;
    ASSERT_EQ(sync_send(p.a.get(), SyncType::Ready), 0);
    EXPECT_EQ(sync_expect(p.b.get(), SyncType::Start), -EPROTO);
}

TEST(ChildError, LongTextIsTruncatedNotOverflowed) {
    std::string longtext(500, 'x');
    auto s = child_fail(longtext.c_str(), longtext.c_str(), 0);
    EXPECT_EQ(std::strlen(s.error.field), sizeof s.error.field - 1);
    EXPECT_EQ(std::strlen(s.error.message), sizeof s.error.message - 1);
    EXPECT_FALSE(static_cast<bool>(s));
}

}  // namespace
}  // namespace hrun::create
