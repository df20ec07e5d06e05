/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/fault.h"

#ifdef CDP_FAULT_INJECTION

#define FAULTS_MAX 8

static struct fault {
        char name[32];
        unsigned long count;
} faults[FAULTS_MAX];
static size_t n_faults;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void parse(void)
{
        const char *env = getenv("CDP_FAULT");

        for (const char *p = env; p && *p && n_faults < FAULTS_MAX;) {
                size_t n = strcspn(p, ",");
                const char *colon = memchr(p, ':', n);
                size_t name_len = colon ? (size_t) (colon - p) : n;
                struct fault *f = &faults[n_faults];

                if (name_len > 0 && name_len < sizeof(f->name)) {
                        memcpy(f->name, p, name_len);
                        f->count = colon ? strtoul(colon + 1, NULL, 10) : 1;
                        n_faults++;
                }
                p += n + (p[n] == ',');
        }
}

static struct fault *find(const char *name)
{
        pthread_once(&once, parse);
        for (size_t i = 0; i < n_faults; i++)
                if (strcmp(faults[i].name, name) == 0)
                        return &faults[i];
        return NULL;
}

bool fault_hit(const char *name)
{
        struct fault *f = find(name);
        bool hit = false;

        if (!f)
                return false;
        pthread_mutex_lock(&lock);
        if (f->count > 0) {
                f->count--;
                hit = true;
        }
        pthread_mutex_unlock(&lock);
        return hit;
}

unsigned long fault_value(const char *name)
{
        struct fault *f = find(name);

        return f ? f->count : 0;
}

#endif
