/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "proxy/act/reject.h"
#include "proxy/intake/socket.h"

struct act_result act_reject(struct dump *d, enum dump_reason reason)
{
        int r = intake_reject(d);

        if (r < 0)
                return act_done(OUTCOME_FAILED, intake_failure_reason(r));
        return act_done(OUTCOME_REJECTED, reason);
}
