/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc parsers behind identify: stat's exit_code field, NSpid, uid/gid maps. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/dump/identify.h"
#include "tests/tap.h"

static void test_stat(void)
{
        int sig = -1;
        /* A held crashing task: state D/R, exit_code (field 52) holds the signal. */
        const char *stat =
                "4097 (cdp-crasher) R 4096 4096 1 0 -1 4194624 96 0 0 0 0 0 0 0 20 0 1 0 150 2621440 "
                "200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 11\n";
        is_int(identify_parse_stat_exit_code(stat, &sig), 0, "stat: parses");
        is_int(sig, 11, "stat: exit_code field is the signal");

        /* comm may hold spaces and ')': fields are counted from the last ')'. */
        char odd[512] = "77 (a) b) c (d) S";
        for (int field = 4; field <= 51; field++)
                strcat(odd, " 0");
        strcat(odd, " 6 \n");
        is_int(identify_parse_stat_exit_code(odd, &sig), 0, "stat: comm with ') ' parses");
        is_int(sig, 6, "stat: signal after an odd comm");

        is_int(identify_parse_stat_exit_code("1 (x) S 0 0", &sig), -EBADMSG, "stat: short line refused");
        is_int(identify_parse_stat_exit_code("no parenthesis", &sig), -EBADMSG, "stat: no comm refused");
}

static void test_nspid(void)
{
        uint32_t pid = 0;
        const char *status =
                "Name:\tapp\nUmask:\t0022\nState:\tR (running)\nTgid:\t4097\nNgid:\t0\nPid:\t4097\n"
                "PPid:\t4000\nNSpid:\t4097\t12\t7\nNSpgid:\t4000\t1\t1\n";

        is_int(identify_parse_nspid(status, &pid), 0, "NSpid: parses nested namespaces");
        is_int(pid, 7, "NSpid: the innermost pid");
        is_int(identify_parse_nspid("Name:\tx\nNSpid:\t42\n", &pid), 0, "NSpid: one namespace");
        is_int(pid, 42, "NSpid: host pid when not in a pid namespace");
        is_int(identify_parse_nspid("Name:\tx\nPid:\t1\n", &pid), -ENOENT, "NSpid: absent");
        is_int(identify_parse_nspid("Name:\tx\nNSpid:\t\n", &pid), -EBADMSG, "NSpid: empty");
        is_int(identify_parse_nspid("Name:\tx\nNSpid:\tabc\n", &pid), -EBADMSG, "NSpid: garbage");
}

static void test_maps(void)
{
        int64_t id = 0;

        is_int(identify_map_id("         0          0 4294967295\n", 1000, &id), 0, "map: identity");
        is_int(id, 1000, "map: identity keeps the id");
        /* A rootless container: host 100000.. is 0.. inside, and the user's own uid is root. */
        const char *rootless = "         0       1000          1\n         1     100000      65536\n";
        is_int(identify_map_id(rootless, 1000, &id), 0, "map: rootless, owner");
        is_int(id, 0, "map: the owner is root inside");
        is_int(identify_map_id(rootless, 100041, &id), 0, "map: rootless, subordinate id");
        is_int(id, 42, "map: subordinate id mapped");
        is_int(identify_map_id(rootless, 0, &id), 0, "map: host root in a rootless container");
        is_int(id, -1, "map: unmapped is -1 (the container sees the overflow id)");
        is_int(identify_map_id(rootless, 165536, &id), 0, "map: just past the range");
        is_int(id, -1, "map: just past the range is unmapped");
        is_int(identify_map_id("garbage\n", 0, &id), -EBADMSG, "map: garbage refused");
}

static void test_map_root(void)
{
        int64_t id = 0;

        is_int(identify_map_root("         0          0 4294967295\n", &id), 0, "root: identity");
        is_int(id, 0, "root: our root is root there");
        is_int(identify_map_root("         0       1000          1\n         1     100000      65536\n",
                                 &id),
               0, "root: rootless");
        is_int(id, 1000, "root: the user is root there");
        is_int(identify_map_root("         1     100000      65536\n", &id), 0, "root: no root mapped");
        is_int(id, -1, "root: none");
        is_int(identify_map_root("x\n", &id), -EBADMSG, "root: garbage refused");
}

static void test_cap_eff(void)
{
        uint64_t caps = 0;

        is_int(identify_parse_cap_eff("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n"
                                      "CapBnd:\t000001ffffffffff\n",
                                      &caps),
               0, "CapEff: parses");
        is_int(caps, 0x1ffffffffffULL, "CapEff: value");
        is_int(identify_parse_cap_eff("Name:\tx\nCapEff:\t0000000000080000\n", &caps), 0, "CapEff: one cap");
        ok(caps == (UINT64_C(1) << 19), "CapEff: CAP_SYS_PTRACE alone");
        is_int(identify_parse_cap_eff("Name:\tx\n", &caps), -ENOENT, "CapEff: absent");
        is_int(identify_parse_cap_eff("Name:\tx\nCapEff:\tzz\n", &caps), -EBADMSG, "CapEff: garbage");
        is_int(identify_parse_cap_eff("Name:\tx\nCapEff:\t0000000000080000x\n", &caps), -EBADMSG,
               "CapEff: trailing garbage");
}

static void test_exe_in_root(void)
{
        char *exe = (char *) "untouched";

        is_int(identify_exe_in_root("/usr/bin/app", "/", &exe), 0, "exe: root /");
        is_str(exe, "/usr/bin/app", "exe: as it is");
        free(exe);
        is_int(identify_exe_in_root("/srv/jail/usr/bin/app", "/srv/jail", &exe), 0, "exe: chroot");
        is_str(exe, "/usr/bin/app", "exe: inside the root");
        free(exe);
        is_int(identify_exe_in_root("/srv/jail/usr/bin/app (deleted)", "/srv/jail", &exe), 0,
               "exe: deleted");
        is_str(exe, "/usr/bin/app (deleted)", "exe: deleted, inside the root");
        free(exe);
        is_int(identify_exe_in_root("/srv/jailbreak/x", "/srv/jail", &exe), 0, "exe: a sibling");
        ok(exe == NULL, "exe: a sibling directory is no prefix");
        is_int(identify_exe_in_root("/usr/bin/app", "/srv/jail", &exe), 0, "exe: outside the root");
        ok(exe == NULL, "exe: outside its root, the task cannot name it");
        is_int(identify_exe_in_root("/srv/jail", "/srv/jail", &exe), 0, "exe: the root itself");
        ok(exe == NULL, "exe: the root itself is no file in it");
}

int main(void)
{
        test_stat();
        test_nspid();
        test_maps();
        test_map_root();
        test_cap_eff();
        test_exe_in_root();
        return tap_done();
}
