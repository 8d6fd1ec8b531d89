#include "stub.h"
LAB_STUB(lab_policy_list, "list");
