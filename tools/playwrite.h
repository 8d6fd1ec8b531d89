/*
 * playwrite.h -- writes a loaded trace as a play file (tools/play/playfile.h), the input
 *                of heapkit-play, the player `heapkit replay --peer` runs on each peer.
 *
 * Design:      The trace was validated by trace_load, so the file satisfies P1-P7 by
 *              construction; the player checks them again anyway (it trusts no input).
 *              Ids are numbered below the trace's id span, which sizes the player's
 *              block table; the thread array is written only when some op is not on
 *              thread 0.
 */
#ifndef HK_TOOLS_PLAYWRITE_H
#define HK_TOOLS_PLAYWRITE_H

#include "trace.h"

/* Writes t to path. Returns 0, or -1 after printing "heapkit: PATH: why" on stderr. */
int playwrite(const trace_t *t, const char *path);

#endif
