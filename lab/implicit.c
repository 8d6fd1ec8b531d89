#include "stub.h"
LAB_STUB(lab_policy_implicit_first, "implicit-first");
LAB_STUB(lab_policy_implicit_next, "implicit-next");
LAB_STUB(lab_policy_implicit_best, "implicit-best");
