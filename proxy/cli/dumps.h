/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * coredump-proxy list / info: the dumps a host store or a collector
 * directory kept, from their <id>.json, in the manner of coredumpctl.
 *
 *   coredump-proxy list [--config FILE | --dir DIR] [--json]
 *   coredump-proxy info ID [--config FILE | --dir DIR] [--json]
 */

/* argv[0] is the verb. Returns the exit status. */
int dumps_main(int argc, char **argv);
