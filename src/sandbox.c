/*
 * Least privilege.  A responder started as root drops to the user given
 * with --user (groups reset) once its socket is open.  Then, on Linux,
 * the FastCGI and CGI modes sandbox themselves before any thread starts:
 * no_new_privs; a seccomp filter that lets through the system calls a
 * health responder and its libraries make (the test suite under the
 * filter found them) and refuses the rest, starting programs, ptrace,
 * mounting, loading modules and changing identity first of all; and,
 * where the kernel has it, Landlock: writes only in the cache directory,
 * execution only of the system's libraries.  Reads stay as the user's
 * permissions allow: per-request settings may name their own files later,
 * and Landlock rules cannot widen then.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "extern.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif

#define SAN_DIR		"/tmp/portus-health-san"	/* see main.c */

/*
 * Drops root for the user called name: its primary group, no
 * supplementary group, real, effective and saved IDs alike, checked
 * after.  Returns 0, or -1 with err set.
 */
int
drop_privileges(const char *name, char *err, size_t sz)
{
	struct passwd	*pw;
	uid_t		 r, e, s;
	gid_t		 rg, eg, sg;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, sz, "--user %s: no such user", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, sz, "--user %s: that is root", name);
		return -1;
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, sz, "--user %s: %s", name, strerror(errno));
		return -1;
	}
	if (getresuid(&r, &e, &s) == -1 || r != pw->pw_uid ||
	    e != pw->pw_uid || s != pw->pw_uid ||
	    getresgid(&rg, &eg, &sg) == -1 || rg != pw->pw_gid ||
	    eg != pw->pw_gid || sg != pw->pw_gid || getgroups(0, NULL) != 0 ||
	    setuid(0) != -1) {
		snprintf(err, sz, "--user %s: the IDs did not all change", name);
		return -1;
	}
	return 0;
}

/* The system calls a responder makes after start-up. */
static const char *const allowed[] = {
	/* Memory, threads, time, signals. */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"membarrier", "futex", "futex_waitv", "clone", "clone3",
	"set_robust_list", "get_robust_list", "set_tid_address", "rseq",
	"exit", "exit_group", "sched_yield", "sched_getaffinity",
	"getrandom", "clock_gettime", "clock_getres", "clock_nanosleep",
	"nanosleep", "gettimeofday", "time", "times", "getrusage",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"sigaltstack", "restart_syscall", "getpid", "gettid", "getppid",
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "getrlimit", "prlimit64", "sysinfo", "uname",
	/* Files: reads anywhere the user may; writes limited by Landlock. */
	"read", "pread64", "readv", "preadv", "write", "pwrite64", "writev",
	"open", "openat", "openat2", "close", "close_range", "lseek",
	"fstat", "stat", "lstat", "newfstatat", "statx", "fstatfs",
	"statfs", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getdents64", "getcwd", "fcntl", "flock", "fsync",
	"fdatasync", "ftruncate", "mkdir", "mkdirat", "rename", "renameat",
	"renameat2", "unlink", "unlinkat", "dup", "dup2", "dup3", "pipe",
	"pipe2", "ioctl", "fadvise64",
	/* Sockets and waiting on them. */
	"socket", "socketpair", "connect", "bind", "listen", "accept",
	"accept4", "getsockname", "getpeername", "getsockopt", "setsockopt",
	"sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
	"shutdown", "poll", "ppoll", "select", "pselect6", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd", "eventfd2",
	/* The sanitizers' leak check stops the world with ptrace. */
#if defined(__SANITIZE_ADDRESS__)
	"ptrace", "wait4", "prctl", "process_vm_readv", "getdents",
#endif
	NULL
};

/* Refused whatever else may change: EPERM, and never allowed. */
static const char *const refused[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
	"move_mount", "open_tree", "fsopen", "fsmount", "init_module",
	"finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"bpf", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
	"keyctl", "add_key", "request_key", "perf_event_open", "unshare",
	"setns", "swapon", "swapoff", "reboot", "acct", "quotactl",
	"userfaultfd", "personality", "iopl", "ioperm",
	"open_by_handle_at", "name_to_handle_at", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "syslog",
	"fanotify_init", "mknod", "mknodat", "chown", "fchown", "fchownat",
	"lchown", "kcmp", "pidfd_getfd", "seccomp", "uselib", "vhangup",
	"prctl", "wait4",
	NULL
};

/* Returns whether name is in list. */
static int
listed(const char *const *list, const char *name)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

/*
 * Loads the seccomp filter: allowed[] passes, refused[] gets EPERM,
 * anything else ENOSYS (a library then takes its older way, as with an
 * older kernel).  Sockets only of the families a responder uses, signals
 * only to this process; other arguments get ENOSYS too.  Returns 0, or
 * -1.
 */
static int
load_seccomp(void)
{
	scmp_filter_ctx	 ctx;
	const char	*const *p;
	int		 nr, rc = -1;
	pid_t		 self = getpid();

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS))) == NULL)
		return -1;
	for (p = refused; *p != NULL; p++)
		if ((nr = seccomp_syscall_resolve_name(*p)) != __NR_SCMP_ERROR &&
		    !listed(allowed, *p) &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0)
			goto out;
	for (p = allowed; *p != NULL; p++) {
		if ((nr = seccomp_syscall_resolve_name(*p)) == __NR_SCMP_ERROR)
			continue;
		/* The comparisons name datum_b, which SCMP_CMP_EQ does not
		 * use, as clang's -Wmissing-field-initializers wants. */
		if (nr == SCMP_SYS(socket)) {
			/* glibc's resolver asks the kernel's routes (netlink). */
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0)) < 0 ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_INET, 0)) < 0 ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0)) < 0 ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0)) < 0)
				goto out;
			continue;
		}
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			goto out;
	}
	/* health.max_requests stops this process with SIGTERM; abort(3)
	 * raises SIGABRT at a thread of it.  Signals elsewhere, like
	 * sockets of other families, fall to the default. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0)) < 0)
		goto out;
	rc = seccomp_load(ctx) == 0 ? 0 : -1;
out:
	seccomp_release(ctx);
	return rc;
}

/* Adds a rule: the access in allow beneath path (where it exists). */
static void
landlock_rule(int ruleset, const char *path, __u64 allow, __u64 handled)
{
	struct landlock_path_beneath_attr pb;
	struct stat sb;

	memset(&pb, 0, sizeof(pb));
	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return;
	/* File rights only for a file: a directory takes them all. */
	if (fstat(pb.parent_fd, &sb) == 0 && !S_ISDIR(sb.st_mode))
		allow &= LANDLOCK_ACCESS_FS_EXECUTE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_TRUNCATE;
	pb.allowed_access = allow & handled;
	if (pb.allowed_access != 0)
		syscall(__NR_landlock_add_rule, ruleset,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
}

/*
 * Limits writes to the cache directory (made first, if it can be) and
 * /dev/null, and execution to the library directories.  Returns the
 * Landlock ABI in force (0: none in this kernel), or -1.
 */
static int
load_landlock(const char *cachedir)
{
	struct landlock_ruleset_attr	 ra;
	__u64				 handled, write;
	long				 abi;
	int				 rs;

	abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	write = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_REG;
	handled = write | LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) {
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
		write |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = handled;
	if ((rs = (int)syscall(__NR_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) == -1)
		return -1;
	if (*cachedir != '\0') {
		if (mkdir(cachedir, 0700) == -1 && errno != EEXIST)
			plog(PL_WARN, "health.cache_dir %s: %s", cachedir,
			    strerror(errno));
		landlock_rule(rs, cachedir, write, handled);
	}
	landlock_rule(rs, "/dev/null", LANDLOCK_ACCESS_FS_WRITE_FILE, handled);
#if defined(__SANITIZE_ADDRESS__)
	landlock_rule(rs, SAN_DIR, write, handled);
#endif
	/* Libraries (NSS modules, MariaDB's authentication plugins) load
	 * on demand: mapping them is no execve, but they live here. */
	landlock_rule(rs, "/usr/lib", LANDLOCK_ACCESS_FS_EXECUTE, handled);
	landlock_rule(rs, "/lib", LANDLOCK_ACCESS_FS_EXECUTE, handled);
	landlock_rule(rs, "/usr/lib64", LANDLOCK_ACCESS_FS_EXECUTE, handled);
	landlock_rule(rs, "/lib64", LANDLOCK_ACCESS_FS_EXECUTE, handled);
	if (syscall(__NR_landlock_restrict_self, rs, 0) == -1) {
		close(rs);
		return -1;
	}
	close(rs);
	return (int)abi;
}

#ifdef PH_TEST_HOOKS
/*
 * Test builds only (tests/portus-health-hooks, never installed): with
 * PORTUS_HEALTH_TEST_ESCAPE=PATH, try what the sandbox refuses and log
 * how it went; with PORTUS_HEALTH_TEST_LEAK set, leak, for a sanitizer
 * build to report.
 */
static void
test_hooks(void)
{
	const char	*path = getenv("PORTUS_HEALTH_TEST_ESCAPE");
	char *const	 argv[] = { "true", NULL };
	int		 fd, e1, e2;
	char		*leak;

	/* Lost on purpose: what a leak check must find. */
	if (getenv("PORTUS_HEALTH_TEST_LEAK") != NULL &&
	    (leak = malloc(4242)) != NULL)
		memset(leak, 'x', 4242);
	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	e2 = errno;
	if (fd != -1)
		close(fd);
	plog(PL_INFO, "escape test: write %s: %s", path, fd == -1 ?
	    strerror(e2) : "written");
	execve("/bin/true", argv, argv + 1);
	e1 = errno;
	plog(PL_INFO, "escape test: execve: %s", strerror(e1));
}
#endif

/*
 * Sandboxes the process before any thread starts (FastCGI and CGI),
 * unless health.sandbox is false.  What the kernel lacks is logged once
 * and done without.  Returns 0, or -1 when a sandbox the kernel has could
 * not be put in place (logged).
 */
int
sandbox(const struct config *cfg)
{
	int abi;

	if (!cfg_int(cfg, K_HEALTH_SANDBOX)) {
		plog(PL_INFO, "health.sandbox is false: no sandbox");
#ifdef PH_TEST_HOOKS
		test_hooks();
#endif
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		plog(PL_ERROR, "sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
	if ((abi = load_landlock(cfg_str(cfg, K_HEALTH_CACHE_DIR))) == -1) {
		plog(PL_ERROR, "sandbox: Landlock: %s", strerror(errno));
		return -1;
	}
	if (abi == 0)
		plog(PL_INFO, "sandbox: this kernel has no Landlock; writes "
		    "are not limited");
	if (load_seccomp() == -1) {
		if (errno == EINVAL || errno == ENOSYS)
			plog(PL_INFO, "sandbox: this kernel has no seccomp "
			    "filter");
		else {
			plog(PL_ERROR, "sandbox: seccomp: %s", strerror(errno));
			return -1;
		}
	}
#ifdef PH_TEST_HOOKS
	test_hooks();
#endif
	return 0;
}
