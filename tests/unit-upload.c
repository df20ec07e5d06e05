/* The upload runner takes only the paths of the dump its request names, beneath its directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy/store/upload.h"
#include "tests/tap.h"

static char dir[] = "/tmp/cdp-unit-upload.XXXXXX";

static int submit(int fd, const char *id, const char *core, const char *meta)
{
        char f_id[128], f_core[512], f_meta[512];
        const char *fields[3];

        snprintf(f_id, sizeof(f_id), "CDP_ID=%s", id);
        snprintf(f_core, sizeof(f_core), "CDP_CORE=%s", core);
        snprintf(f_meta, sizeof(f_meta), "CDP_METADATA=%s", meta);
        fields[0] = f_id;
        fields[1] = f_core;
        fields[2] = f_meta;
        return upload_submit(fd, fields, 3);
}

static bool ran(const char *id)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/ran-%s", dir, id);
        return access(p, F_OK) == 0;
}

int main(void)
{
        char cmd[256], good_core[256], good_meta[256], other[256];
        struct upload_options o = { .timeout = 5000000, .max_running = 2 };
        int fd, status;
        pid_t pid;

        if (!mkdtemp(dir))
                return 99;
        snprintf(cmd, sizeof(cmd), "touch %s/ran-$CDP_ID", dir);
        o.command = cmd;
        o.directory = dir;
        snprintf(good_core, sizeof(good_core), "%s/ok-1.core.zst", dir);
        snprintf(good_meta, sizeof(good_meta), "%s/ok-1.json", dir);
        snprintf(other, sizeof(other), "%s/ok-1.json", "/etc");

        is_int(upload_start(&o, &fd, &pid), 0, "the runner starts");
        is_int(submit(fd, "ok-1", good_core, good_meta), 0, "a dump's own paths");
        is_int(submit(fd, "bad-1", "/etc/shadow", good_meta), 0, "a core path outside the store");
        is_int(submit(fd, "bad-2", good_core, other), 0, "a metadata path outside the store");
        is_int(submit(fd, "bad-3", good_core, good_meta), 0, "another dump's paths");
        snprintf(other, sizeof(other), "%s/ok-1.core.zst/../../etc/shadow", dir);
        is_int(submit(fd, "bad-4", other, good_meta), 0, "a path that climbs out");
        close(fd);
        is_int(waitpid(pid, &status, 0), pid, "the runner ends at EOF");
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and exits 0");
        ok(ran("ok-1"), "the command ran for the dump whose paths are its own");
        ok(!ran("bad-1") && !ran("bad-2") && !ran("bad-3") && !ran("bad-4"),
           "and for no request naming other files");
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", dir);
        return tap_done();
}
