/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/dump/concurrency.h"

struct slot {
        struct slot *next;
        unsigned in_flight;
        char key[];
};

struct concurrency {
        pthread_mutex_t lock;
        struct slot *slots;
};

int concurrency_new(struct concurrency **ret)
{
        struct concurrency *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        pthread_mutex_init(&c->lock, NULL);
        *ret = c;
        return 0;
}

void concurrency_free(struct concurrency *c)
{
        if (!c)
                return;
        for (struct slot *s = c->slots, *next; s; s = next) {
                next = s->next;
                free(s);
        }
        pthread_mutex_destroy(&c->lock);
        free(c);
}

static struct slot **find(struct concurrency *c, const char *key)
{
        struct slot **p;

        for (p = &c->slots; *p; p = &(*p)->next)
                if (strcmp((*p)->key, key) == 0)
                        break;
        return p;
}

bool concurrency_enter(struct concurrency *c, const char *key, unsigned max)
{
        struct slot **p, *s;
        bool ok = true;

        pthread_mutex_lock(&c->lock);
        p = find(c, key);
        if (*p) {
                ok = max == 0 || (*p)->in_flight < max;
                if (ok)
                        (*p)->in_flight++;
        } else {
                size_t n = strlen(key) + 1;

                s = malloc(sizeof(*s) + n);
                if (s) {
                        memcpy(s->key, key, n);
                        s->in_flight = 1;
                        s->next = c->slots;
                        c->slots = s;
                } else {
                        /* Not counted is not limited: refuse rather than let a storm through. */
                        ok = false;
                }
        }
        pthread_mutex_unlock(&c->lock);
        return ok;
}

void concurrency_leave(struct concurrency *c, const char *key)
{
        struct slot **p, *s;

        pthread_mutex_lock(&c->lock);
        p = find(c, key);
        s = *p;
        if (s && --s->in_flight == 0) {
                *p = s->next;
                free(s);
        }
        pthread_mutex_unlock(&c->lock);
}
