/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/base/stdfds.h"

int stdfds_ensure(void)
{
        for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                /*
                 * The lowest free number: fd itself, since the ones below are open
                 * by now. Not close-on-exec: these are the standard streams.
                 */
                int null = open("/dev/null", O_RDWR | O_NOCTTY);
                if (null < 0)
                        return negative_errno();
                if (null != fd) {
                        safe_close(null);
                        return -EBADF;
                }
        }
        return 0;
}
