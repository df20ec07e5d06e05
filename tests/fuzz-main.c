/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The main() of a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file named on the command line, or
 * found directly in a directory named there, and reports each as a TAP line.
 * This is how `make check` replays the corpora under tests/fuzz/ with gcc,
 * with or without ASan and UBSan. A crash is not caught: the sanitizer report
 * (or the signal) is the result, and the last "# running" line names the input.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Far above any corpus file; only guards against a wrong argument such as a disk image. */
#define INPUT_MAX ((size_t) 16 * 1024 * 1024)

static unsigned n_tests;
static unsigned n_failed;

static void result(bool good, const char *path, const char *why)
{
        n_tests++;
        if (!good)
                n_failed++;
        printf("%s %u - %s%s%s\n", good ? "ok" : "not ok", n_tests, path, why ? " # " : "", why ?: "");
        fflush(stdout);
}

static void run_file(const char *path)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        size_t size = 0;
        int r;

        r = io_read_file_at(AT_FDCWD, path, INPUT_MAX, &text, &size);
        if (r < 0) {
                result(false, path, strerror(-r));
                return;
        }
        /*
         * A buffer of exactly the input's size, as libFuzzer passes it: the copy
         * io_read_file_at() made has a NUL after the end, which would hide a
         * parser reading one byte too far from ASan.
         */
        data = malloc(size > 0 ? size : 1);
        if (!data) {
                result(false, path, strerror(ENOMEM));
                return;
        }
        memcpy(data, text, size);

        /* stdout is flushed first, so that a crash report follows the input it belongs to */
        printf("# running %s (%zu bytes)\n", path, size);
        fflush(stdout);
        (void) LLVMFuzzerTestOneInput(data, size);
        result(true, path, NULL);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

struct name_list {
        char **names;
        size_t n;
};

static void name_list_done(struct name_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        *l = (struct name_list){};
}

static int name_list_add(struct name_list *l, const char *dir, const char *name)
{
        char **nn;

        nn = reallocarray(l->names, l->n + 1, sizeof(*nn));
        if (!nn)
                return -ENOMEM;
        l->names = nn;
        if (asprintf(&l->names[l->n], "%s/%s", dir, name) < 0)
                return -ENOMEM;
        l->n++;
        return 0;
}

/* The regular files directly in dir, in name order so that the TAP numbering is stable. */
static void run_dir(const char *dir)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(name_list_done) struct name_list list = {};
        struct dirent *de;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                result(false, dir, strerror(errno));
                return;
        }
        while (r == 0 && (errno = 0, de = readdir(d))) {
                /* dot files are editor and VCS leftovers, never corpus entries */
                if (de->d_name[0] != '.')
                        r = name_list_add(&list, dir, de->d_name);
        }
        if (r == 0 && errno != 0)
                r = -errno;
        if (r < 0) {
                result(false, dir, strerror(-r));
                return;
        }
        if (list.n > 0)
                qsort(list.names, list.n, sizeof(*list.names), compare_names);

        for (size_t i = 0; i < list.n; i++) {
                struct stat st;

                if (stat(list.names[i], &st) < 0)
                        result(false, list.names[i], strerror(errno));
                else if (S_ISREG(st.st_mode))
                        run_file(list.names[i]);
        }
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return EXIT_FAILURE;
        }

        for (int i = 1; i < argc; i++) {
                struct stat st;

                /* libFuzzer's own options ("-runs=0"), so that one command line fits both builds */
                if (argv[i][0] == '-') {
                        printf("# ignoring libFuzzer option %s\n", argv[i]);
                        continue;
                }
                if (stat(argv[i], &st) < 0)
                        result(false, argv[i], strerror(errno));
                else if (S_ISDIR(st.st_mode))
                        run_dir(argv[i]);
                else
                        run_file(argv[i]);
        }

        printf("1..%u\n", n_tests);
        return n_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
