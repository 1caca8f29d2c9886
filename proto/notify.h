/*
 * The service manager's notification protocol (sd_notify(3)), for
 * running each daemon as a systemd Type=notify unit with WatchdogSec=.
 *
 * A daemon's main reads:
 *
 *   daemon_setup(&d, ...);      notify_open(): before the sandbox
 *   ... IPC up, daemon_drop(&d) ...
 *   notify_ready(d.loop);       READY=1, watchdog timer started
 *   ev_run(d.loop, 0);
 *   notify_stopping();          STOPPING=1
 *
 * Without $NOTIFY_SOCKET (the `onionmesh up` supervisor, a test, a
 * shell) every call does nothing and returns 0.
 */
#ifndef OM_NOTIFY_H
#define OM_NOTIFY_H

#include <stdint.h>

#include <ev.h>

/* Read $NOTIFY_SOCKET ("/path" or "@abstract"), $WATCHDOG_USEC and
 * $WATCHDOG_PID and open one datagram socket connected to the manager,
 * kept for the daemon's life (so no socket() is needed in the sandbox).
 * 0, also when there is no manager; -1 with errno when NOTIFY_SOCKET is
 * set but unusable (the daemon logs it and runs on: a unit whose READY
 * never comes is failed by systemd with a clearer story). */
int notify_open(void) __attribute__((warn_unused_result));
/* 1 when a manager listens (notify_open found $NOTIFY_SOCKET). */
int notify_enabled(void);
/* Send one datagram of "KEY=VALUE\n..." lines. 0, or -1 with errno. */
int notify_send(const char *state) __attribute__((warn_unused_result));
/* The watchdog interval systemd asked of this process in microseconds
 * ($WATCHDOG_USEC when $WATCHDOG_PID is unset or is our pid), else 0. */
uint64_t notify_watchdog_usec(void);
/* READY=1, and when the watchdog is on a libev timer on `loop` sending
 * WATCHDOG=1 at half the interval: a loop that hangs stops the pings
 * and systemd restarts the daemon. */
void notify_ready(struct ev_loop *loop);
/* STOPPING=1 and the watchdog timer stopped (orderly shutdown). */
void notify_stopping(void);
/* Forget the socket and the timer (tests; a daemon never needs it). */
void notify_close(void);

#endif
