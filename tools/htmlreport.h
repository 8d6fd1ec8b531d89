/*
 * htmlreport.h -- `heapkit report TRACE... -o report.html`: which allocation strategy fits
 *                 a program, and why, on one self-contained HTML page.
 *
 * Design:      The command measures and the page (htmlpage.h) shows. For every trace:
 *                1. every selected policy replays it with replay_run (replay.h), checks
 *                   and timing runs included: the rows of the table and the verdict are
 *                   exactly what `heapkit replay` would print for the same options;
 *                2. the policies worth a line (the least footprints, the fastest, the
 *                   best trade, hkfit, libc) replay it once more for their curves
 *                   (timeline.h);
 *                3. a few policies are drawn with `heapkit map`'s renderer (htmlmaps.h):
 *                   by default the one that wastes least, the fastest, hkfit and the
 *                   textbook's first fit (implicit-first), each with fewer layouts when
 *                   its picture would pass a budget;
 *                4. a recorded trace's call sites are added up (sites.h).
 *              Like replay, everything the replays need is allocated before the first
 *              heap opens. While it works, and only when stderr is a terminal, one line
 *              of progress on stderr says where it is.
 * Exit status: 0 every row passed; 1 some policy failed (its row says FAIL; the page is
 *              still written); 2 bad usage, a malformed trace (trace_load names the file
 *              and line), or an output that cannot be written.
 */
#ifndef HK_TOOLS_HTMLREPORT_H
#define HK_TOOLS_HTMLREPORT_H

/* The subcommand: heapkit report [OPTIONS] TRACE... */
int htmlreport_main(int argc, char **argv);

#endif
