/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Whom a dump may be handed to. Two rules, both for the process that
 * listens (SO_PEERPIDFD when the proxy connects, before message 1) and for
 * the one that answers (message 2's sender, SCM_PIDFD/SCM_CREDENTIALS):
 *
 * - cgroup: its cgroup is the crashing task's container cgroup or below it
 *   (trust "pod": its pod's), by cgroup ids of ancestors, never by names;
 * - credentials: it could read the task's memory anyway, by the kernel's
 *   own rule (ptrace access): it runs as the task's uid and gid, or is uid 0
 *   with CAP_SYS_PTRACE in the task's user namespace (or in the initial
 *   one). A route's collector_uid widens this, and only it does.
 */

#include <stdint.h>

#include "kernel/fdpass.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/* Makes the kernel say who sends each message on sock (SO_PASSCRED, SO_PASSPIDFD where it has it). */
void trust_refuse_rights(int sock);
int trust_prepare_socket(int sock);
/* After message 2: later messages are not trusted for anything, and need no credentials. */
void trust_end_credentials(int sock);

/*
 * The listener of a connected collector socket. 1 trusted (*ret_pidfd,
 * *ret_pid: the listener, for trust_check_sender()), 0 not (ret_why,
 * allocated, says why), -errno when it cannot be identified (not trusted
 * either).
 */
int trust_check_listener(const struct dump *d, int sock, const struct dump_env *env, int *ret_pidfd,
                         uint32_t *ret_pid, char **ret_why);

/*
 * The sender of message 2, as the kernel named it. Without SCM_PIDFD
 * (before 6.5) only the listener itself is believed, while its pidfd shows
 * it alive (its pid cannot have been reused); a message without credentials
 * is refused. Same results as trust_check_listener().
 */
int trust_check_sender(const struct dump *d, const struct dump_env *env, const struct fdpass_sender *sender,
                       int listener_pidfd, uint32_t listener_pid, char **ret_why);
