/*
 * The monotonic clock in seconds, for deadlines, backoff and uptimes in
 * the daemons and the command: one reading instead of one helper per
 * file. (libev timers keep their own ev_now; this is for code outside
 * the loop.)
 */
#ifndef OM_CLOCK_H
#define OM_CLOCK_H

/* CLOCK_MONOTONIC as seconds: only differences mean anything. */
double mono_now(void);

#endif
