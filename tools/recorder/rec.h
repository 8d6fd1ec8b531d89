/*
 * rec.h -- the recorder library's two halves: hooks.c (the interposed allocation
 *          functions) and log.c (buffers, files, fork, exec, exit and fatal signals).
 *
 * Design:      hooks.c forwards every call to the next allocator (dlsym RTLD_NEXT) and
 *              hands a description of what happened to rec_event(); log.c owns every
 *              byte the recorder writes. Neither half calls malloc or stdio: the
 *              recorder runs inside malloc, before main, inside dlsym, in signal
 *              handlers and in a forked child, where either could deadlock or recurse.
 */
#ifndef HK_REC_H
#define HK_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "rawlog.h"

/* Is this thread inside the recorder (or inside a call it forwards)? Then a nested
 * allocation is passed through without being recorded. */
extern __thread int rec_busy;

/* True once the log is open and recording (HEAPKIT_RECORD_DIR set and writable). */
extern bool rec_on;
/* Call sites wanted (HEAPKIT_RECORD_CALLSITES=1). */
extern bool rec_callsites;

/* The next value of the process-wide call counter (rawlog.h: seq). */
uint64_t rec_seq(void);

/* Appends one event for the calling thread: its thread number, time and (with call
 * sites) `caller` are filled in here. */
void rec_event(uint8_t op, uint64_t seq, uint64_t addr, uint64_t size, uint64_t aux,
               const void *caller);
/* rec_event(op, rec_seq(), ...), with the common event appended inline. */
void rec_log(uint8_t op, uint64_t addr, uint64_t size, uint64_t aux, const void *caller);

/* Opens the log of this process image; called once, at the first hook (or from the
 * constructor), after the real allocator's functions are resolved. */
void rec_start(void);

/* Writes every buffer out and the end of the meta file: before exec, _exit, at exit and
 * on a fatal signal. `how` is the "ended" text ("exit", "exec", "signal 11"). */
void rec_flush_all(const char *how);

/* Signals (signal_hooks.c): is our handler the action of sig; the program installed its
 * own (ours is gone); sigaction of the next library, not our hook. */
struct sigaction;
bool rec_catches(int sig);
void rec_release_signal(int sig);
int  rec_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* For _exit and _Exit, which skip destructors: write everything out, then end the
 * process with `status`. */
_Noreturn void rec_exit_now(int status);

#endif
