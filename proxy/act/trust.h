/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Whom a dump may be handed to: the process behind a collector's socket
 * must belong to the crashing task's own container or, with trust "pod",
 * to the same Kubernetes pod. Its identity is its pidfd, taken from the
 * connected socket; never a name it could choose.
 */

#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/*
 * 1 trusted, 0 not (ret_why, allocated, says who listens), -errno when the
 * listener cannot be identified (not trusted either).
 */
int trust_check_listener(const struct dump *d, int sock, const struct dump_env *env, char **ret_why);
