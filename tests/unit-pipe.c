/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The pipe intake's words: the helper's argv as the kernel expands the
 * pattern, the hand-off datagram, the settings file; the daemon's choice of
 * mode for each kind of kernel; and the /proc text the fallbacks of older
 * kernels read (a pidfd's fdinfo, a task's status, /proc/<pid>/net/unix).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/pidfd-proc.h"
#include "proxy/daemon/mode.h"
#include "proxy/protocol/pipe-handoff.h"
#include "tests/tap.h"

static void test_args(void)
{
        const char *listen = NULL;
        struct pipe_facts f;
        char *v616[] = { "/run/coredump-proxy/kernel.sock", "P=1234", "s=11", "t=1700000000", "d=2", "F=3" };
        char *v61[] = { "/run/cdp/k.sock", "P=77", "s=6", "t=1", "d=1" };
        /* A pattern of a newer daemon on a kernel that dropped a specifier it does not know. */
        char *newer[] = { "/run/cdp/k.sock", "P=77", "F=", "x=whatever", "s=11" };

        is_int(pipe_args_parse(6, v616, &listen, &f), 0, "args 6.16+: parse");
        is_str(listen, "/run/coredump-proxy/kernel.sock", "args: the listen path first");
        ok(f.pid == 1234 && f.signal == 11 && f.time == 1700000000 && f.dumpable == 2 && f.kernel_fd == 3,
           "args 6.16+: P s t d F");
        is_int(pipe_args_parse(5, v61, &listen, &f), 0, "args before 6.16: parse");
        ok(f.pid == 77 && f.signal == 6 && f.dumpable == 1 && f.kernel_fd == -1, "args before 6.16: no %%F");
        is_int(pipe_args_parse(5, newer, &listen, &f), 0, "args: empty and unknown specifiers are skipped");
        ok(f.pid == 77 && f.kernel_fd == -1 && f.signal == 11, "args: the known ones still read");

        static char *bad[][3] = {
                { "relative", "P=1", NULL },     { "/x", "P=0", NULL },   { "/x", "P=-1", NULL },
                { "/x", "s=11", NULL },          { "/x", "P=1", "P=2" },  { "/x", "P=1", "s=65" },
                { "/x", "P=1", "d=3" },          { "/x", "P=12a", NULL }, { "/x", "P=1", "nonsense" },
                { "/x", "P=99999999999", NULL },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                int n = bad[i][2] ? 3 : 2;
                memset(&f, 0x5a, sizeof(f));
                listen = NULL;
                is_int(pipe_args_parse(n, bad[i], &listen, &f), -EINVAL, "args refused: %s %s %s", bad[i][0],
                       bad[i][1], bad[i][2] ? bad[i][2] : "");
                ok(!listen && f.pid == 0x5a5a5a5a, "args refused: nothing written");
        }
}

static void test_handoff(void)
{
        struct pipe_facts f = PIPE_FACTS_INIT, back;
        char buf[PIPE_HANDOFF_MAX];
        size_t len;

        f.pid = 4242;
        f.signal = 11;
        f.time = 1700000000;
        f.dumpable = 1;
        f.kernel_fd = 3;
        f.pidfd_source = PIPE_PIDFD_OPENED;
        is_int(pipe_handoff_format(&f, buf, sizeof(buf), &len), 0, "handoff: format");
        is_int(pipe_handoff_parse(buf, len, &back), 0, "handoff: parse what was formatted");
        ok(back.pid == 4242 && back.signal == 11 && back.time == 1700000000 && back.dumpable == 1 &&
                   back.pidfd_source == PIPE_PIDFD_OPENED,
           "handoff: the same facts back");
        is_int(back.kernel_fd, -1, "handoff: an fd number of the helper never travels");
        is_int(pipe_handoff_format(&f, buf, 16, &len), -ENOBUFS, "handoff: too small a buffer");

        static const char *const bad[] = {
                "",
                "coredump-proxy-pipe 1\n",                    /* no pid */
                "coredump-proxy-pipe\npid=1\n",               /* no version */
                "coredump-proxy-pip 1\npid=1\n",              /* not ours */
                "coredump-proxy-pipe 1\npid=1",               /* no newline at the end */
                "coredump-proxy-pipe 1\npid=1\npid=2\n",      /* twice */
                "coredump-proxy-pipe 1\npid=1\nsignal=99\n",  /* out of range */
                "coredump-proxy-pipe 1\npid=1\npidfd=mine\n", /* unknown word */
                "coredump-proxy-pipe 1\n=1\n",                /* no key */
                "coredump-proxy-pipe 1\npid 1\n",             /* no '=' */
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                is_int(pipe_handoff_parse(bad[i], strlen(bad[i]), &back), -EBADMSG,
                       "handoff refused: case %zu", i);
        is_int(pipe_handoff_parse("coredump-proxy-pipe 2\npid=1\n", 28, &back), -EPROTONOSUPPORT,
               "handoff: another version is not ours to read");
        is_int(pipe_handoff_parse("coredump-proxy-pipe 1\npid=1\0\n", 29, &back), -EBADMSG,
               "handoff: a NUL byte is refused");
        const char *future = "coredump-proxy-pipe 1\npid=9\nsomething=new\n";
        is_int(pipe_handoff_parse(future, strlen(future), &back), 0, "handoff: unknown keys are ignored");
}

static void test_settings(void)
{
        struct pipe_settings s = { .store_directory = (char *) "/var/lib/coredump-proxy",
                                   .max_use = { .set = true, .percent = true, .value = 10 },
                                   .keep_free = { .set = true, .value = 1048576 } },
                             back = {};
        _cleanup_free_ char *text = NULL;
        size_t len;

        is_int(pipe_settings_format(&s, &text, &len), 0, "settings: format");
        is_str(text, "store=/var/lib/coredump-proxy\nmax_use=10%\nkeep_free=1048576\n",
               "settings: the text");
        is_int(pipe_settings_parse(text, len, &back), 0, "settings: parse");
        ok(back.store_directory && strcmp(back.store_directory, s.store_directory) == 0 &&
                   back.max_use.percent && back.max_use.value == 10 && !back.keep_free.percent &&
                   back.keep_free.value == 1048576,
           "settings: read back");
        pipe_settings_done(&back);
        is_int(pipe_settings_parse("max_use=1%\n", 11, &back), -EBADMSG, "settings: a store is required");
        is_int(pipe_settings_parse("store=rel\n", 10, &back), -EBADMSG, "settings: an absolute store");
        is_int(pipe_settings_parse("store=/x\nmax_use=200%\n", 22, &back), -EBADMSG,
               "settings: at most 100%%");
        ok(!back.store_directory, "settings refused: nothing written");
        s.store_directory = (char *) "relative";
        is_int(pipe_settings_format(&s, &text, &len), -EINVAL, "settings: format refuses a relative store");
}

static void test_choose(void)
{
        const struct core_modes k61 = { .file = true, .pipe = true }; /* no core_modes: before 6.16 */
        const struct core_modes k616 = {
                .listed = true, .file = true, .pipe = true, .socket = true, .pipe_pidfd = true
        };
        const struct core_modes no_socket = {
                .listed = true, .file = true, .pipe = true, .pipe_pidfd = true
        };
        const struct core_modes nothing = { .listed = true, .file = true, .pipe_pidfd = true };
        enum intake_mode m;
        const char *why = NULL;

        is_int(mode_choose(PROTOCOL_AUTO, &k61, true, &m, &why), 0, "auto on 6.1");
        is_int(m, INTAKE_PIPE, "auto on 6.1: pipe");
        ok(why && strstr(why, "no kernel.core_modes"), "auto on 6.1: says why (%s)", why);
        is_int(mode_choose(PROTOCOL_AUTO, &k616, true, &m, &why), 0, "auto on 6.16+");
        is_int(m, INTAKE_REQUEST, "auto on 6.16+: the socket (\"@@\" where taken)");
        is_int(mode_choose(PROTOCOL_AUTO, &no_socket, true, &m, &why), 0, "auto, core_modes without socket");
        is_int(m, INTAKE_PIPE, "auto, core_modes without socket: pipe");
        is_int(mode_choose(PROTOCOL_AUTO, &nothing, true, &m, &why), -EOPNOTSUPP,
               "auto on a kernel with neither: an error");
        is_int(mode_choose(PROTOCOL_REQUEST, &k61, true, &m, &why), -EOPNOTSUPP,
               "request on 6.1 with --install-pattern: an error, never a pattern the kernel misreads");
        ok(why && strstr(why, "auto"), "request on 6.1: the error names the way out");
        is_int(mode_choose(PROTOCOL_PLAIN, &k61, false, &m, &why), 0,
               "plain on 6.1 without --install-pattern: runs (and warns)");
        is_int(mode_choose(PROTOCOL_PIPE, &k616, true, &m, &why), 0, "pipe forced on 6.16+");
        is_int(m, INTAKE_PIPE, "pipe forced on 6.16+: pipe");
        is_int(mode_choose(PROTOCOL_PIPE, &nothing, true, &m, &why), -EOPNOTSUPP,
               "pipe on a kernel that lists no pipe: an error");
        is_int(mode_choose(PROTOCOL_PLAIN, &k616, true, &m, &why), 0, "plain on 6.16+");
        is_int(m, INTAKE_PLAIN, "plain on 6.16+: plain");
        for (int i = 0; i < _INTAKE_MODE_MAX; i++)
                is_int(intake_mode_from_string(intake_mode_to_string(i)), i, "mode %d has a name", i);
}

/* The kernel runs the helper as root for every crash: only a file only root can change will do. */
static void test_helper_check(void)
{
        char dir[] = "/tmp/cdp-unit-helper-XXXXXX", path[128];
        int fd;

        if (geteuid() != 0 || !mkdtemp(dir)) {
                tap_diag("helper check: needs root (file owners), skipped");
                return;
        }
        (void) snprintf(path, sizeof(path), "%s/coredump-proxy-pipe", dir);
        is_int(mode_helper_check(path), -ENOENT, "helper check: missing");
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ok(fd >= 0, "helper check: made a file");
        close(fd);
        is_int(mode_helper_check(path), -ENOEXEC, "helper check: not executable");
        (void) chmod(path, 0755);
        (void) chmod(dir, 0755);
        is_int(mode_helper_check(path), 0, "helper check: root's, 0755, in a root directory");
        (void) chmod(path, 0775);
        is_int(mode_helper_check(path), -EPERM, "helper check: group-writable");
        (void) chmod(path, 0755);
        (void) chmod(dir, 0777);
        is_int(mode_helper_check(path), -EPERM, "helper check: in a directory others can write");
        (void) chmod(dir, 0755);
        (void) !chown(path, 65534, 65534);
        is_int(mode_helper_check(path), -EPERM, "helper check: not root's");
        is_int(mode_helper_check("coredump-proxy-pipe"), -EINVAL, "helper check: relative");
        (void) !chown(path, 0, 0);

        /*
         * Every directory on the way counts, not only the last (issue 14's review): one that
         * others can write lets them rename the whole subtree away and put their own in its place.
         */
        char sub[160], deep[200], link[200];
        (void) snprintf(sub, sizeof(sub), "%s/sub", dir);
        (void) snprintf(deep, sizeof(deep), "%s/coredump-proxy-pipe", sub);
        ok(mkdir(sub, 0755) == 0, "helper check: made a subdirectory");
        fd = open(deep, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        ok(fd >= 0, "helper check: a helper in it");
        close(fd);
        is_int(mode_helper_check(deep), 0, "helper check: every directory root's alone");
        (void) chmod(dir, 0777);
        is_int(mode_helper_check(deep), -EPERM, "helper check: an ancestor others can write");
        (void) chmod(dir, 01777);
        is_int(mode_helper_check(deep), 0, "helper check: a sticky ancestor, as /tmp (root's entries stay)");
        (void) chmod(dir, 0755);
        (void) !chown(dir, 65534, 65534);
        is_int(mode_helper_check(deep), -EPERM, "helper check: an ancestor not root's");
        (void) !chown(dir, 0, 0);
        /*
         * Symlinks (/opt -> var/opt on some nodes): followed, and their targets checked the same
         * way, but only root's: a link's target is whatever its owner says.
         */
        char other[160], away[200];
        (void) snprintf(link, sizeof(link), "%s/link", dir);
        ok(symlink(deep, link) == 0, "helper check: a symlink to the helper");
        is_int(mode_helper_check(link), 0, "helper check: root's symlink to it, followed");
        ok(lchown(link, 65534, 65534) == 0, "helper check: the link given to another user");
        is_int(mode_helper_check(link), -EPERM, "helper check: another user's symlink on the way");
        (void) unlink(link);
        ok(symlink("sub", link) == 0, "helper check: a relative symlink to its directory");
        (void) snprintf(away, sizeof(away), "%s/link/coredump-proxy-pipe", dir);
        is_int(mode_helper_check(away), 0, "helper check: a directory on the way a root's symlink");
        /* The target's own directories count: a link into a directory others can write. */
        (void) snprintf(other, sizeof(other), "%s/open", dir);
        ok(mkdir(other, 0777) == 0 && chmod(other, 0777) == 0, "helper check: a directory others can write");
        (void) snprintf(away, sizeof(away), "%s/open/coredump-proxy-pipe", dir);
        fd = open(away, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        close(fd);
        (void) unlink(link);
        ok(symlink("open", link) == 0, "helper check: a root's symlink to it");
        (void) snprintf(away, sizeof(away), "%s/link/coredump-proxy-pipe", dir);
        is_int(mode_helper_check(away), -EPERM, "helper check: a symlink into a directory others can write");
        (void) snprintf(away, sizeof(away), "%s/open/coredump-proxy-pipe", dir);
        (void) unlink(away);
        (void) rmdir(other);
        (void) unlink(link);
        ok(symlink("link", link) == 0, "helper check: a symlink to itself");
        (void) snprintf(away, sizeof(away), "%s/link/coredump-proxy-pipe", dir);
        is_int(mode_helper_check(away), -ELOOP, "helper check: a symlink loop ends");
        (void) unlink(link);
        (void) snprintf(link, sizeof(link), "%s/coredump-proxy-pipe/x", dir);
        is_int(mode_helper_check(link), -ENOTDIR, "helper check: a file on the way");
        (void) snprintf(link, sizeof(link), "%s/../sub/coredump-proxy-pipe", sub);
        is_int(mode_helper_check(link), 0, "helper check: '..' walked like any directory");
        is_str(mode_helper_problem(-ELOOP), "too many symbolic links on its path",
               "helper check: the loop problem is said");
        (void) unlink(deep);
        (void) rmdir(sub);
        (void) unlink(path);

        /* On a noexec mount (a hostPath under a noexec /var) the kernel's exec fails for every crash. */
        pid_t child = fork();
        int status = -1;
        if (child == 0) {
                int r = -1;

                if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                    mount("cdp-noexec", dir, "tmpfs", MS_NOEXEC, "mode=0755") == 0) {
                        int f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);

                        if (f >= 0) {
                                close(f);
                                r = mode_helper_check(path);
                        }
                }
                _exit(r == -EACCES ? 0 : r == 0 ? 2 : 1);
        }
        ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "helper check: on a noexec mount, -EACCES");
        is_str(mode_helper_problem(-EACCES), "it is on a noexec mount, where the kernel cannot run it",
               "helper check: the noexec problem is said");
        (void) rmdir(dir);
}

static void test_proc_parsers(void)
{
        struct cdp_pidfd_info info = {};
        uint64_t inodes[4];
        int dumping = 7;
        pid_t pid = 0;

        is_int(pidfd_proc_parse_fdinfo(
                       "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nPid:\t4321\nNSpid:\t4321\n",
                       &pid),
               0, "fdinfo: Pid");
        is_int(pid, 4321, "fdinfo: the number");
        is_int(pidfd_proc_parse_fdinfo("pos:\t0\nPid:\t-1\nNSpid:\t-1\n", &pid), -ESRCH,
               "fdinfo: -1 is gone");
        is_int(pidfd_proc_parse_fdinfo("pos:\t0\nflags:\t02\nNSpid:\t5\n", &pid), -EBADF,
               "fdinfo: no Pid line: not a pidfd (NSpid does not count)");
        is_int(pidfd_proc_parse_fdinfo("Pid:\t12x\n", &pid), -EBADMSG, "fdinfo: garbage");

        static const char status[] =
                "Name:\tcrasher\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\nNgid:\t0\n"
                "Pid:\t101\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\n"
                "Gid:\t2000\t2001\t2002\t2003\nNSpid:\t101\t5\nCoreDumping:\t1\n";
        is_int(pidfd_proc_parse_status(status, &info, &dumping), 0, "status: parse");
        ok(info.tgid == 100 && info.pid == 101 && info.ppid == 1,
           "status: ids (Pid: not NSpid:, Tgid: not Ngid:)");
        ok(info.ruid == 1000 && info.euid == 1001 && info.suid == 1002 && info.fsuid == 1003,
           "status: uids");
        ok(info.rgid == 2000 && info.egid == 2001, "status: gids");
        is_int(dumping, 1, "status: CoreDumping");
        is_int(pidfd_proc_parse_status("Tgid:\t1\nPid:\t1\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
                                       &info, &dumping),
               0, "status before 4.15: parse");
        is_int(dumping, -1, "status before 4.15: CoreDumping unknown");
        is_int(pidfd_proc_parse_status("Tgid:\t1\nPid:\t1\n", &info, &dumping), -EBADMSG,
               "status: truncated");

        static const char net_unix[] =
                "Num       RefCount Protocol Flags    Type St Inode Path\n"
                "0000000000000000: 00000002 00000000 00010000 0005 01 31337 @coredump-collector\n"
                "0000000000000000: 00000003 00000000 00000000 0005 03 31338 @coredump-collector\n"
                "0000000000000000: 00000002 00000000 00010000 0001 01 31339 /run/collector.sock\n"
                "0000000000000000: 00000002 00000000 00000000 0002 01 31340\n"
                "0000000000000000: 00000002 00000000 00010000 0005 01 31341 @coredump-collector-2\n";
        is_int(pidfd_proc_parse_net_unix(net_unix, "@coredump-collector", inodes, 4), 1,
               "net/unix: one listener of that name (its accepted peers and longer names are not)");
        is_int(inodes[0], 31337, "net/unix: its inode");
        is_int(pidfd_proc_parse_net_unix(net_unix, "/run/collector.sock", inodes, 4), 1, "net/unix: a path");
        is_int(pidfd_proc_parse_net_unix(net_unix, "@other", inodes, 4), 0, "net/unix: no such listener");
        is_int(pidfd_proc_parse_net_unix("header\ngarbage line\n", "@x", inodes, 4), -EBADMSG,
               "net/unix: garbage");
}

int main(void)
{
        test_args();
        test_handoff();
        test_settings();
        test_choose();
        test_helper_check();
        test_proc_parsers();
        return tap_done();
}
