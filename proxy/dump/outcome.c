/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stddef.h>

#include "kernel/cleanup.h"
#include "proxy/dump/outcome.h"

static const char *const outcome_names[_OUTCOME_MAX] = {
        [OUTCOME_NONE] = "none",         [OUTCOME_DELIVERED] = "delivered", [OUTCOME_STORED] = "stored",
        [OUTCOME_REJECTED] = "rejected", [OUTCOME_FAILED] = "failed",
};

static const char *const reason_names[_REASON_MAX] = {
        [REASON_NONE] = "none",
        [REASON_ROUTE] = "route",
        [REASON_DEFAULT] = "default",
        [REASON_NOT_A_COREDUMP] = "not-a-coredump",
        [REASON_RATE_LIMIT] = "rate-limit",
        [REASON_CONTAINER_BUSY] = "container-busy",
        [REASON_OVERLOAD] = "overload",
        [REASON_SHUTDOWN] = "shutdown",
        [REASON_SENSITIVE] = "sensitive",
        [REASON_HOST_TASK] = "host-task",
        [REASON_TASK_GONE] = "task-gone",
        [REASON_HOST_NETWORK] = "host-network",
        [REASON_NO_COLLECTOR] = "no-collector",
        [REASON_UNTRUSTED_COLLECTOR] = "untrusted-collector",
        [REASON_COLLECTOR_TIMEOUT] = "collector-timeout",
        [REASON_COLLECTOR_DECLINED] = "collector-declined",
        [REASON_COLLECTOR_ERROR] = "collector-error",
        [REASON_NO_SYSTEMD_COREDUMP] = "no-systemd-coredump",
        [REASON_UNTRUSTED_SYSTEMD_COREDUMP] = "untrusted-systemd-coredump",
        [REASON_SYSTEMD_COREDUMP_ERROR] = "systemd-coredump-error",
        [REASON_TIMEOUT] = "timeout",
        [REASON_NO_PROGRESS] = "no-progress",
        [REASON_PROTOCOL_ERROR] = "protocol-error",
        [REASON_IDENTIFY_ERROR] = "identify-error",
        [REASON_STORE_UNAVAILABLE] = "store-unavailable",
        [REASON_STORE_FULL] = "store-full",
        [REASON_STORE_ERROR] = "store-error",
        [REASON_DAEMON_UNAVAILABLE] = "daemon-unavailable",
        [REASON_NOT_DUMPABLE] = "not-dumpable",
        [REASON_NOT_RECEIVED] = "not-received",
};

DEFINE_STRING_TABLE_LOOKUP(dump_outcome, enum dump_outcome, outcome_names)
DEFINE_STRING_TABLE_LOOKUP(dump_reason, enum dump_reason, reason_names)
