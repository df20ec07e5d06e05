/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kernel/cleanup.h"
#include "kernel/netlink.h"
#include "kernel/proc-connector.h"

/*
 * libnl sets 32 KiB. A kernel without event filters (before 6.6) multicasts
 * every fork, exec and exit on the host to us, and even with the filter a
 * crash storm must fit while the daemon is busy; the memory is only charged
 * while messages are queued. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which the
 * daemon still has when it opens the connector.
 */
#define PROC_CONNECTOR_RCVBUF (4 * 1024 * 1024)

/*
 * Datagrams read per proc_connector_read() call: on a busy host fork/exit
 * messages arrive as fast as we drain them, and a loop "until EAGAIN" would
 * never give the event loop back.
 */
#define PROC_CONNECTOR_BATCH 512

/* How many foreign messages may precede the kernel's answer to our subscription. */
#define PROC_CONNECTOR_ACK_SCAN 4096

struct proc_connector {
        struct nl_sock *sk;
        uint32_t ack_cookie; /* cn_msg.ack of our requests; the kernel answers with cookie + 1 */
};

/*
 * With event_type 0 the request is the bare 4-byte operation; otherwise it
 * is a struct proc_input (6.6) asking the kernel to multicast only that
 * event type to this socket, so the daemon is not woken by every fork and
 * exit on the host.
 */
static int send_mcast_op(struct proc_connector *pc, enum proc_cn_mcast_op op, uint32_t event_type)
{
        uint8_t req[sizeof(struct cn_msg) + 2 * sizeof(uint32_t)] = {};
        size_t len = event_type ? 2 * sizeof(uint32_t) : sizeof(uint32_t);
        struct cn_msg hdr = {
                .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC },
                .ack = pc->ack_cookie,
                .len = (uint16_t) len, /* enums are 4 bytes on the wire */
        };
        uint32_t op32 = (uint32_t) op;
        int r;

        memcpy(req, &hdr, sizeof(hdr));
        memcpy(req + sizeof(hdr), &op32, sizeof(op32));
        memcpy(req + sizeof(hdr) + sizeof(op32), &event_type, sizeof(event_type));

        /*
         * The connector takes a bare cn_msg in an NLMSG_DONE message and
         * never sends a netlink ack; its answer is a PROC_EVENT_NONE event
         * multicast to the group.
         */
        errno = 0;
        r = nl_send_simple(pc->sk, NLMSG_DONE, 0, req, (int) (sizeof(hdr) + len));
        if (r < 0)
                return netlink_errno(r, errno);
        return 0;
}

/*
 * One datagram from the socket into *ret_buf (malloc'ed by libnl). Returns
 * its size; 0 with *ret_buf NULL when the kernel reported dropped messages
 * (*ret_lost is set); -EPERM for a datagram not sent by the kernel (dropped
 * here); -EAGAIN when the queue is empty.
 */
static int recv_datagram(struct proc_connector *pc, unsigned char **ret_buf, bool *ret_lost)
{
        struct sockaddr_nl from = {};
        unsigned char *buf = NULL;
        int n;

        errno = 0;
        n = nl_recv(pc->sk, &from, &buf, NULL);
        if (n < 0) {
                int saved = errno;

                /*
                 * The kernel reports a receive queue overflow once, as
                 * ENOBUFS; libnl turns it into NLE_NOMEM, as it does a
                 * failed malloc (errno ENOMEM then). The queue is still
                 * good after it: keep reading.
                 */
                if (n == -NLE_NOMEM && saved == ENOBUFS) {
                        *ret_lost = true;
                        *ret_buf = NULL;
                        return 0;
                }
                return netlink_errno(n, saved);
        }
        if (n == 0) {
                free(buf);
                return -EAGAIN;
        }
        /* Anyone may unicast to our port; only the kernel (port 0) speaks for the connector. */
        if (from.nl_family != AF_NETLINK || from.nl_pid != 0) {
                free(buf);
                *ret_buf = NULL;
                return -EPERM;
        }
        *ret_buf = buf;
        return n;
}

/*
 * Validates one netlink message as a proc connector event and copies the
 * proc_event out of it (it sits at an offset that is not 8-byte aligned).
 * Returns 1 with *ret filled up to min(cn_msg.len, sizeof), 0 to skip
 * silently, -EBADMSG for malformed input.
 */
static int parse_message(const struct nlmsghdr *nlh, struct proc_event *ret, size_t *ret_len)
{
        struct cn_msg cn;
        size_t payload;

        if (nlh->nlmsg_type == NLMSG_NOOP)
                return 0;
        if (nlh->nlmsg_type != NLMSG_DONE)
                return -EBADMSG;
        if (nlmsg_datalen(nlh) < (int) sizeof(struct cn_msg))
                return -EBADMSG;
        memcpy(&cn, nlmsg_data(nlh), sizeof(cn));
        if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
                return -EBADMSG;
        payload = (size_t) nlmsg_datalen(nlh) - sizeof(struct cn_msg);
        if (cn.len > payload)
                return -EBADMSG;
        /* Every event starts with what, cpu and timestamp_ns. */
        if (cn.len < offsetof(struct proc_event, event_data))
                return -EBADMSG;

        memset(ret, 0, sizeof(*ret));
        *ret_len = MIN((size_t) cn.len, sizeof(*ret));
        memcpy(ret, (const uint8_t *) nlmsg_data(nlh) + sizeof(struct cn_msg), *ret_len);
        return 1;
}

#define EVENT_END(member) \
        (offsetof(struct proc_event, event_data) + sizeof(((struct proc_event *) 0)->member))

/* Reads until the kernel's PROC_EVENT_NONE answer to our request; returns its error field. */
static int wait_subscription_ack(struct proc_connector *pc)
{
        for (unsigned i = 0; i < PROC_CONNECTOR_ACK_SCAN; i++) {
                _cleanup_free_ unsigned char *buf = NULL;
                bool lost = false;
                int n;

                n = recv_datagram(pc, &buf, &lost);
                if (n == -EAGAIN)
                        /*
                         * The connector handles our request inside sendmsg()
                         * and queues its answer before returning: nothing
                         * queued means the kernel ignored us.
                         */
                        return -EOPNOTSUPP;
                if (n == -EPERM)
                        continue;
                if (n < 0)
                        return n;
                if (lost)
                        /* The answer may have been among the dropped messages. */
                        return -ENOBUFS;
                if (n == 0)
                        continue;

                int rem = n;
                for (struct nlmsghdr *nlh = (struct nlmsghdr *) buf; nlmsg_ok(nlh, rem);
                     nlh = nlmsg_next(nlh, &rem)) {
                        struct proc_event ev;
                        struct cn_msg cn;
                        size_t len;

                        if (parse_message(nlh, &ev, &len) <= 0)
                                continue;
                        memcpy(&cn, nlmsg_data(nlh), sizeof(cn));
                        if (ev.what != PROC_EVENT_NONE || cn.ack != pc->ack_cookie + 1)
                                continue;
                        if (len < EVENT_END(event_data.ack))
                                return -EBADMSG;
                        /* Positive errno values: the answer is not a syscall return. */
                        if (ev.event_data.ack.err != 0)
                                return -(int) MIN(ev.event_data.ack.err, (uint32_t) 4095);
                        return 0;
                }
        }
        return -EOPNOTSUPP;
}

int proc_connector_open(struct proc_connector **ret)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_free_ struct proc_connector *pc = NULL;
        int r, size = PROC_CONNECTOR_RCVBUF;

        r = netlink_open(NETLINK_CONNECTOR, &sk);
        if (r < 0)
                return r;

        errno = 0;
        r = nl_socket_add_membership(sk, CN_IDX_PROC);
        if (r < 0)
                return netlink_errno(r, errno);

        if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                return negative_errno();

        errno = 0;
        r = nl_socket_set_nonblocking(sk);
        if (r < 0)
                return netlink_errno(r, errno);

        pc = calloc(1, sizeof(*pc));
        if (!pc)
                return -ENOMEM;
        pc->sk = TAKE_PTR(sk);
        /* Our port is unique in the namespace: it tells our answer from other listeners'. */
        pc->ack_cookie = nl_socket_get_local_port(pc->sk);

        r = send_mcast_op(pc, PROC_CN_MCAST_LISTEN, 0);
        if (r >= 0)
                r = wait_subscription_ack(pc);
        if (r >= 0) {
                /*
                 * Then narrow the subscription to coredump events (6.6+). This
                 * one goes unanswered: the kernel sends its ack through the
                 * very filter it just installed, and an ack is no coredump. A
                 * kernel without filters ignores the longer message and keeps
                 * sending everything, which proc_connector_read() sorts out.
                 */
                (void) send_mcast_op(pc, PROC_CN_MCAST_LISTEN, PROC_EVENT_COREDUMP);
        }
        if (r < 0) {
                /* Undoes the subscription if the kernel did count it. */
                proc_connector_free(TAKE_PTR(pc));
                return r;
        }

        *ret = TAKE_PTR(pc);
        return 0;
}

int proc_connector_fd(const struct proc_connector *pc)
{
        if (!pc)
                return -EBADF;
        return nl_socket_get_fd(pc->sk);
}

int proc_connector_read(struct proc_connector *pc, struct proc_coredump_event *events, size_t max,
                        struct proc_connector_result *ret)
{
        struct proc_connector_result res = {};
        int r = 0;

        if (!pc || (!events && max > 0) || !ret)
                return -EINVAL;

        for (unsigned i = 0; i < PROC_CONNECTOR_BATCH && res.n_events < max; i++) {
                _cleanup_free_ unsigned char *buf = NULL;
                int n;

                n = recv_datagram(pc, &buf, &res.lost);
                if (n == -EAGAIN) {
                        res.drained = true;
                        break;
                }
                if (n == -EPERM) {
                        res.invalid++;
                        continue;
                }
                if (n < 0) {
                        r = n;
                        break;
                }
                if (n == 0)
                        continue; /* ENOBUFS, noted in res.lost */

                /*
                 * The kernel sends one event per datagram; walk them all
                 * anyway. Events past max are dropped and counted as lost,
                 * which cannot happen with one event per datagram.
                 */
                int rem = n;
                struct nlmsghdr *nlh = (struct nlmsghdr *) buf;
                for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
                        struct proc_event ev;
                        size_t len;
                        int k;

                        k = parse_message(nlh, &ev, &len);
                        if (k < 0) {
                                res.invalid++;
                                continue;
                        }
                        if (k == 0 || ev.what != PROC_EVENT_COREDUMP)
                                continue;
                        if (len < EVENT_END(event_data.coredump)) {
                                res.invalid++;
                                continue;
                        }
                        if (res.n_events >= max) {
                                res.lost = true;
                                continue;
                        }
                        events[res.n_events++] = (struct proc_coredump_event){
                                .process_pid = ev.event_data.coredump.process_pid,
                                .process_tgid = ev.event_data.coredump.process_tgid,
                                .parent_pid = ev.event_data.coredump.parent_pid,
                                .parent_tgid = ev.event_data.coredump.parent_tgid,
                                .timestamp_ns = ev.timestamp_ns,
                        };
                }
                /* Trailing bytes that do not form a message: a truncated or garbled datagram. */
                if (rem != 0)
                        res.invalid++;
        }

        /* Events already taken off the queue would be lost with the error; it repeats next time. */
        if (r < 0 && res.n_events == 0 && !res.lost)
                return r;
        *ret = res;
        return 0;
}

void proc_connector_free(struct proc_connector *pc)
{
        if (!pc)
                return;
        /*
         * Closing alone would leave the kernel's listener count raised until
         * its next send finds nobody; best effort, nothing to report to.
         */
        (void) send_mcast_op(pc, PROC_CN_MCAST_IGNORE, 0);
        nl_socket_free(pc->sk);
        free(pc);
}
