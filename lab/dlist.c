#include "stub.h"
LAB_STUB(lab_policy_dlist_first, "dlist-first");
LAB_STUB(lab_policy_dlist_next, "dlist-next");
LAB_STUB(lab_policy_dlist_best, "dlist-best");
LAB_STUB(lab_policy_dlist_worst, "dlist-worst");
