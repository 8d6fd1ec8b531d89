# src/src.mk -- libheapkit (issue 3). Defines `lib` (part of `all`) and `test-lib`.
.PHONY: lib test-lib
lib:
test-lib:
