/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/socket.h>

#include "kernel/pidfd.h"
#include "proxy/daemon/inflight.h"

void inflight_init(struct inflight *l)
{
        *l = (struct inflight){};
        pthread_mutex_init(&l->lock, NULL);
}

void inflight_done(struct inflight *l)
{
        pthread_mutex_destroy(&l->lock);
}

void inflight_add(struct inflight *l, struct dump *d)
{
        pthread_mutex_lock(&l->lock);
        d->prev = NULL;
        d->next = l->head;
        if (l->head)
                l->head->prev = d;
        l->head = d;
        l->n++;
        pthread_mutex_unlock(&l->lock);
}

void inflight_remove(struct inflight *l, struct dump *d)
{
        pthread_mutex_lock(&l->lock);
        if (d->prev)
                d->prev->next = d->next;
        else
                l->head = d->next;
        if (d->next)
                d->next->prev = d->prev;
        d->prev = d->next = NULL;
        l->n--;
        pthread_mutex_unlock(&l->lock);
}

size_t inflight_count(struct inflight *l)
{
        pthread_mutex_lock(&l->lock);
        size_t n = l->n;
        pthread_mutex_unlock(&l->lock);
        return n;
}

void inflight_shutdown(struct inflight *l)
{
        pthread_mutex_lock(&l->lock);
        for (struct dump *d = l->head; d; d = d->next) {
                /* A worker may be setting collector_fd right now: it is published atomically. */
                int fd = __atomic_load_n(&d->collector_fd, __ATOMIC_ACQUIRE);

                /* A pipe has no shutdown: ending the task ends the kernel's writing, and its wait. */
                if (__atomic_load_n(&d->mode, __ATOMIC_RELAXED) == DUMP_MODE_PIPE) {
                        if (d->pidfd >= 0)
                                (void) pidfd_kill(d->pidfd);
                } else if (d->fd >= 0)
                        (void) shutdown(d->fd, SHUT_RDWR);
                if (fd >= 0)
                        (void) shutdown(fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&l->lock);
}
