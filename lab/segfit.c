#include "stub.h"
LAB_STUB(lab_policy_segfit, "segfit");
