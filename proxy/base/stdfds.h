/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A program started with stdin, stdout or stderr closed would hand that
 * number to the next file it opens: event lines meant for stdout, or log
 * lines, would be written into a lock file, a dump, a config. The first
 * thing our programs do (before opening anything) is to put /dev/null
 * where one of the three is missing. -errno when that is impossible: the
 * program must not go on.
 */
int stdfds_ensure(void);
