/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Self-confinement with a libseccomp allowlist, loaded once start-up is
 * done, on every thread (TSYNC). Each program has its own list.
 */

int sandbox_apply_proxy(void);
int sandbox_apply_collector(void);
