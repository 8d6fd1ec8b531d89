#include "stub.h"
LAB_STUB(lab_policy_vm, "vm");
