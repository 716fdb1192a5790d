// What setup_rootfs does, computed before clone. (Filled in by the rootfs module.)
#pragma once

namespace hrun::rootfs {
struct RootfsPlan {};
}  // namespace hrun::rootfs
