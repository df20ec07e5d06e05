/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kernel/cleanup.h"
#include "kernel/netlink.h"
#include "kernel/unix-diag.h"

/* A namespace's users can create listeners at will; the list we build for them is bounded. */
#define UNIX_DIAG_LISTENERS_MAX 65536

/* sock_diag_check_cookie(): an all-ones cookie matches any socket (INET_DIAG_NOCOOKIE). */
#define UNIX_DIAG_NOCOOKIE (~0U)

/* One reply message: the fixed header and the attributes we use (NULL if absent). */
struct diag_reply {
        struct unix_diag_msg msg;
        const struct nlattr *name;
        const struct nlattr *rqlen;
};

typedef int (*diag_reply_fn)(const struct diag_reply *reply, void *userdata);

/* An error number the kernel put into a message, as our -errno (bounded, never 0). */
static int kernel_error(int32_t error)
{
        if (error >= 0 || error < -4095)
                return -EPROTO;
        return error;
}

static int parse_reply(const struct nlmsghdr *nlh, struct diag_reply *ret)
{
        struct diag_reply reply = {};
        struct nlattr *nla;
        int rem;

        if (!nlmsg_valid_hdr(nlh, sizeof(struct unix_diag_msg)))
                return -EBADMSG;
        memcpy(&reply.msg, nlmsg_data(nlh), sizeof(reply.msg));
        if (reply.msg.udiag_family != AF_UNIX)
                return -EBADMSG;

        /*
         * Walked by hand rather than with nlmsg_parse(): libnl lets bytes
         * after the last attribute pass with a debug message, and a message
         * garbled that way must not be half-trusted.
         */
        nla = nlmsg_attrdata(nlh, sizeof(struct unix_diag_msg));
        rem = nlmsg_attrlen(nlh, sizeof(struct unix_diag_msg));
        for (; nla_ok(nla, rem); nla = nla_next(nla, &rem)) {
                switch (nla_type(nla)) {
                case UNIX_DIAG_NAME:
                        if (nla_len(nla) < 1 || nla_len(nla) > UNIX_DIAG_NAME_MAX + 1)
                                return -EBADMSG;
                        reply.name = nla;
                        break;
                case UNIX_DIAG_RQLEN:
                        if (nla_len(nla) < (int) sizeof(struct unix_diag_rqlen))
                                return -EBADMSG;
                        reply.rqlen = nla;
                        break;
                default:
                        /* Attributes we did not ask for, or newer ones. */
                        break;
                }
        }
        /* Bytes left over that do not form an attribute: the message is garbled. */
        if (rem != 0)
                return -EBADMSG;

        *ret = reply;
        return 0;
}

/*
 * Sends one UNIX_DIAG request and hands every reply to fn, until the kernel's
 * ack, error or end of dump. The socket lives for this call only, in the
 * caller's current network namespace.
 */
static int diag_query(const struct unix_diag_req *req, int flags, diag_reply_fn fn, void *userdata)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(nlmsg_freep) struct nl_msg *m = NULL;
        uint32_t seq, port;
        int r;

        /* We check sequence numbers and acks ourselves, below. */
        r = netlink_open(NETLINK_SOCK_DIAG, &sk);
        if (r < 0)
                return r;

        m = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | flags);
        if (!m)
                return -ENOMEM;
        errno = 0;
        r = nlmsg_append(m, (void *) req, sizeof(*req), NLMSG_ALIGNTO);
        if (r < 0)
                return netlink_errno(r, errno);
        nl_complete_msg(sk, m);
        seq = nlmsg_hdr(m)->nlmsg_seq;
        port = nl_socket_get_local_port(sk);

        errno = 0;
        r = nl_send(sk, m);
        if (r < 0)
                return netlink_errno(r, errno);

        /*
         * Blocking reads: sock_diag answers inside our sendmsg() and, for a
         * dump, refills the queue inside each recvmsg(), so an answer is
         * always on its way.
         */
        for (;;) {
                _cleanup_free_ unsigned char *buf = NULL;
                struct sockaddr_nl from = {};
                int n;

                errno = 0;
                n = nl_recv(sk, &from, &buf, NULL);
                if (n < 0)
                        return netlink_errno(n, errno);
                if (n == 0)
                        return -EPROTO;
                /* Anyone may unicast to our port; only the kernel (port 0) answers. */
                if (from.nl_family != AF_NETLINK || from.nl_pid != 0)
                        continue;

                int rem = n;
                struct nlmsghdr *nlh = (struct nlmsghdr *) buf;
                for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
                        if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != port)
                                return -EPROTO;

                        if (nlh->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr e;

                                if (nlmsg_datalen(nlh) < (int) sizeof(e))
                                        return -EBADMSG;
                                memcpy(&e, nlmsg_data(nlh), sizeof(e));
                                /* error 0 is the ack that ends a non-dump request. */
                                return e.error == 0 ? 0 : kernel_error(e.error);
                        }
                        if (nlh->nlmsg_type == NLMSG_DONE) {
                                int32_t status = 0;

                                /* The end of a dump carries the dump's own status. */
                                if (nlmsg_datalen(nlh) >= (int) sizeof(status))
                                        memcpy(&status, nlmsg_data(nlh), sizeof(status));
                                return status == 0 ? 0 : kernel_error(status);
                        }
                        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
                                return -EBADMSG;
                        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                                return -EAGAIN;

                        struct diag_reply reply;
                        r = parse_reply(nlh, &reply);
                        if (r < 0)
                                return r;
                        r = fn(&reply, userdata);
                        if (r < 0)
                                return r;
                }
                if (rem != 0)
                        return -EBADMSG;
        }
}

static void reply_rqlen(const struct diag_reply *reply, uint32_t *ret_pending, uint32_t *ret_backlog)
{
        struct unix_diag_rqlen rq;

        memcpy(&rq, nla_data(reply->rqlen), sizeof(rq));
        *ret_pending = rq.udiag_rqueue;
        *ret_backlog = rq.udiag_wqueue;
}

struct queue_lookup {
        uint32_t inode;
        bool found;
        uint32_t pending;
        uint32_t backlog;
};

static int on_queue_reply(const struct diag_reply *reply, void *userdata)
{
        struct queue_lookup *q = userdata;

        if (reply->msg.udiag_ino != q->inode || q->found)
                return -EBADMSG;
        if (reply->msg.udiag_state != TCP_LISTEN)
                return -ENOENT;
        /* For a listener the kernel reports queue length and backlog, not bytes. */
        if (!reply->rqlen)
                return -EBADMSG;
        reply_rqlen(reply, &q->pending, &q->backlog);
        q->found = true;
        return 0;
}

int unix_diag_listener_queue(uint64_t inode, uint32_t *ret_pending, uint32_t *ret_backlog)
{
        struct queue_lookup q = {};
        int r;

        /*
         * sockfs inode numbers are 32-bit (get_next_ino()), as is
         * udiag_ino; 0 names no socket (the kernel answers EINVAL).
         */
        if (inode == 0 || inode > UINT32_MAX)
                return -ENOENT;
        q.inode = (uint32_t) inode;

        /* An exact lookup ignores udiag_states: the state is checked in on_queue_reply(). */
        struct unix_diag_req req = {
                .sdiag_family = AF_UNIX,
                .udiag_states = 1U << TCP_LISTEN,
                .udiag_ino = q.inode,
                .udiag_show = UDIAG_SHOW_RQLEN,
                .udiag_cookie = { UNIX_DIAG_NOCOOKIE, UNIX_DIAG_NOCOOKIE },
        };

        r = diag_query(&req, NLM_F_ACK, on_queue_reply, &q);
        if (r < 0)
                return r;
        if (!q.found)
                return -EBADMSG;

        *ret_pending = q.pending;
        *ret_backlog = q.backlog;
        return 0;
}

struct listener_list {
        struct unix_diag_listener *items;
        size_t n;
        size_t allocated;
};

static int on_listener_reply(const struct diag_reply *reply, void *userdata)
{
        struct listener_list *l = userdata;
        struct unix_diag_listener *e;

        /* The dump filter is the kernel's; checked again because we promise listeners. */
        if (reply->msg.udiag_state != TCP_LISTEN)
                return 0;
        if (!reply->rqlen)
                return -EBADMSG;

        if (l->n == l->allocated) {
                size_t want = l->allocated ? l->allocated * 2 : 16;
                struct unix_diag_listener *p;

                if (l->n >= UNIX_DIAG_LISTENERS_MAX)
                        return -ENOBUFS;
                want = MIN(want, (size_t) UNIX_DIAG_LISTENERS_MAX);
                p = reallocarray(l->items, want, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                l->items = p;
                l->allocated = want;
        }

        e = &l->items[l->n];
        *e = (struct unix_diag_listener){ .inode = reply->msg.udiag_ino };
        reply_rqlen(reply, &e->pending, &e->backlog);

        if (reply->name) {
                const uint8_t *p = nla_data(reply->name);
                size_t len = (size_t) nla_len(reply->name);

                if (p[0] == '\0') {
                        /* Abstract: the kernel sends exactly the bound bytes, no terminator. */
                        e->name[0] = '@';
                        memcpy(e->name + 1, p + 1, len - 1);
                        e->name_len = len;
                } else {
                        /* A path: includes its terminator; nothing after the first NUL counts. */
                        e->name_len = strnlen((const char *) p, len);
                        memcpy(e->name, p, e->name_len);
                }
                e->name[e->name_len] = '\0';
        }
        l->n++;
        return 0;
}

int unix_diag_list_listeners(struct unix_diag_listener **ret, size_t *ret_n)
{
        struct listener_list l = {};
        int r;

        struct unix_diag_req req = {
                .sdiag_family = AF_UNIX,
                .udiag_states = 1U << TCP_LISTEN,
                .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_RQLEN,
        };

        r = diag_query(&req, NLM_F_DUMP, on_listener_reply, &l);
        if (r < 0) {
                free(l.items);
                return r;
        }

        *ret = l.items;
        *ret_n = l.n;
        return 0;
}
