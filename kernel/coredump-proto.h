/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/compat.h"
#include "kernel/io.h"

/*
 * The "@@" request/ack conversation (6.17+). Bytes on the wire:
 * kernel → server: coredump_req (req.size bytes, 16 today, larger in drafts);
 * server → kernel: coredump_ack (16 bytes); kernel → server: a 4-byte mark;
 * then, for COREDUMP_KERNEL, the ELF core until EOF.
 */

/* The largest request we accept; the kernel's own selftests use the same bound. */
#define COREDUMP_REQ_SIZE_MAX 4096U
#define COREDUMP_MARK_SIZE    4U
#define COREDUMP_MASK_KNOWN   (COREDUMP_KERNEL | COREDUMP_USERSPACE | COREDUMP_REJECT | COREDUMP_WAIT)

/*
 * Parses the first len bytes the kernel sent. -EAGAIN: fewer than the
 * request's own size arrived so far (read more and retry). -EBADMSG: size out
 * of [COREDUMP_REQ_SIZE_VER0, COREDUMP_REQ_SIZE_MAX]. On success *ret_consume
 * is the exact number of bytes to take off the stream (req.size).
 */
int coredump_req_parse(const void *buf, size_t len, struct coredump_req *ret, size_t *ret_consume);

/*
 * What a server needs from a request: an ack of at least 16 bytes and the
 * KERNEL and REJECT answers. -EPROTO / -EOPNOTSUPP otherwise.
 */
int coredump_req_validate(const struct coredump_req *req);

/*
 * Builds the ack for mask: size = the 16 bytes we know (the kernel accepts
 * [16, req.size_ack]), only bits the kernel offered (-EOPNOTSUPP), exactly
 * one of KERNEL/USERSPACE/REJECT (-EINVAL).
 */
int coredump_ack_build(const struct coredump_req *req, uint64_t mask, struct coredump_ack *ret);

/* Each mark maps to its own errno: REQACK 0, MINSIZE -EMSGSIZE, MAXSIZE -E2BIG,
 * UNSUPPORTED -EOPNOTSUPP, CONFLICTING -EINVAL, anything else -EPROTO. */
int coredump_mark_to_errno(uint32_t mark);
const char *coredump_mark_to_string(uint32_t mark);

/*
 * Socket I/O on the accepted kernel connection, waiting until deadline
 * (monotonic, USEC_INFINITY for none). recv peeks the size first, then
 * consumes exactly req.size bytes so the mark and the core stay in place.
 */
int coredump_req_recv(int fd, struct coredump_req *ret, usec_t deadline);
int coredump_ack_send(int fd, const struct coredump_req *req, uint64_t mask);
/*
 * Whether the connection speaks "@@" (1) or "@" (0), from its first four
 * bytes, peeked: a request starts with its own size (16..4096), a plain dump
 * with the ELF magic, which as a size would be far beyond any request.
 * Waits for them until deadline (pass io_now() not to wait); -EPIPE at EOF.
 */
int coredump_conn_is_request(int fd, usec_t deadline);
/* Reads the 4-byte mark; returns the mark's errno (0 for REQACK) and stores the raw mark. */
int coredump_mark_recv(int fd, uint32_t *ret_mark, usec_t deadline);
