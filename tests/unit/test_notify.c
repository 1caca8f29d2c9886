/*
 * notify.c: the service manager's protocol as systemd reads it. A test
 * plays systemd: it binds an AF_UNIX datagram socket (a path, and an
 * abstract "@name"), names it in $NOTIFY_SOCKET, and reads what the
 * daemon side sends: READY=1, WATCHDOG=1 at half of $WATCHDOG_USEC from
 * a libev loop, STOPPING=1; nothing at all without $NOTIFY_SOCKET; a
 * bad $NOTIFY_SOCKET is an error, not a crash; a manager that bound its
 * socket again is reached again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "proto/log.h"
#include "proto/notify.h"

struct fx {
	char dir[64];
	char path[128];   /* the manager's socket, a file in dir */
	int fd;           /* the manager's end */
};

static int
manager_bind(struct fx *f, const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, strlen(name));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	f->fd = fd;
	return fd;
}

/* The next datagram within timeout_ms, as a string; "" when none. */
static const char *
manager_recv(struct fx *f, int timeout_ms)
{
	static char buf[512];
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, timeout_ms) != 1)
		return buf;
	n = recv(f->fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/om-test-notify.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	f->fd = -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	notify_close();
	if (f->fd != -1)
		close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	free(f);
	return 0;
}

/* No manager: every call is a quiet no-op. */
static void
test_no_socket(void **state)
{
	(void)state;
	assert_int_equal(notify_open(), 0);
	assert_false(notify_enabled());
	assert_int_equal(notify_send("READY=1"), 0);
	notify_ready(NULL);
	notify_stopping();
	assert_int_equal(notify_watchdog_usec(), 0);
}

static void
test_path_socket(void **state)
{
	struct fx *f = *state;

	manager_bind(f, f->path);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	assert_int_equal(notify_open(), 0);
	assert_true(notify_enabled());
	notify_ready(NULL);
	assert_string_equal(manager_recv(f, 1000), "READY=1\nSTATUS=serving");
	assert_int_equal(notify_send("STATUS=hello"), 0);
	assert_string_equal(manager_recv(f, 1000), "STATUS=hello");
	notify_stopping();
	assert_string_equal(manager_recv(f, 1000), "STOPPING=1");
	/* Nothing else was sent: no watchdog asked for, none pinged. */
	assert_string_equal(manager_recv(f, 100), "");
}

static void
test_abstract_socket(void **state)
{
	struct fx *f = *state;
	char name[64];

	snprintf(name, sizeof(name), "@om-test-notify-%d", (int)getpid());
	manager_bind(f, name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(notify_open(), 0);
	notify_ready(NULL);
	assert_string_equal(manager_recv(f, 1000), "READY=1\nSTATUS=serving");
	notify_stopping();
	assert_string_equal(manager_recv(f, 1000), "STOPPING=1");
}

static void
test_bad_socket(void **state)
{
	struct fx *f = *state;
	char longname[200];

	assert_int_equal(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0);
	assert_int_equal(notify_open(), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_false(notify_enabled());

	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longname, 1), 0);
	assert_int_equal(notify_open(), -1);
	assert_int_equal(errno, ENAMETOOLONG);

	/* Named but nobody listens. */
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	assert_int_equal(notify_open(), -1);
	assert_false(notify_enabled());
	/* And the later calls stay harmless. */
	assert_int_equal(notify_send("READY=1"), 0);
}

static void
test_watchdog_env(void **state)
{
	char pid[32];

	(void)state;
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "2000000", 1);
	assert_int_equal(notify_watchdog_usec(), 2000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 2000000);
	/* Meant for another process. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_PID", "x", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "12ms", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "-5", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

struct counts {
	struct fx *f;
	int pings, ready, stopping, other;
};

static void
count(struct counts *c, const char *m)
{
	if (strcmp(m, "WATCHDOG=1") == 0)
		c->pings++;
	else if (strcmp(m, "READY=1\nSTATUS=serving") == 0)
		c->ready++;
	else if (strcmp(m, "STOPPING=1") == 0)
		c->stopping++;
	else
		c->other++;
}

/* The manager reads as systemd does, while the daemon's loop runs (a
 * datagram queue holds only a few). */
static void
manager_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct counts *c = w->data;

	(void)loop;
	(void)revents;
	count(c, manager_recv(c->f, 0));
}

/* WATCHDOG_USEC=100 ms: a ping at once and one every 50 ms from the
 * loop, none after STOPPING=1. */
static void
test_watchdog_loop(void **state)
{
	struct fx *f = *state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct counts c = { .f = f };
	ev_timer stop;
	ev_io io;
	const char *m;

	assert_non_null(loop);
	manager_bind(f, f->path);
	setenv("NOTIFY_SOCKET", f->path, 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	assert_int_equal(notify_open(), 0);
	ev_io_init(&io, manager_cb, f->fd, EV_READ);
	io.data = &c;
	ev_io_start(loop, &io);
	notify_ready(loop);
	ev_timer_init(&stop, stop_cb, 0.5, 0.);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_io_stop(loop, &io);
	notify_stopping();
	while ((m = manager_recv(f, 100))[0] != '\0')
		count(&c, m);
	assert_int_equal(c.ready, 1);
	assert_int_equal(c.stopping, 1);
	assert_int_equal(c.other, 0);
	/* 0.5 s at 50 ms: about 11; timing noise on a busy machine
	 * allows fewer, but a timer that never repeats gives 1. */
	assert_true(c.pings >= 5);
	assert_true(c.pings <= 12);
	/* The timer is stopped: the loop has nothing left to ping. */
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	assert_string_equal(manager_recv(f, 10), "");
	ev_loop_destroy(loop);
}

/* The manager re-executed and bound the same path again: the next
 * message reconnects and arrives. */
static void
test_manager_rebinds(void **state)
{
	struct fx *f = *state;

	manager_bind(f, f->path);
	setenv("NOTIFY_SOCKET", f->path, 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_send("STATUS=one"), 0);
	assert_string_equal(manager_recv(f, 1000), "STATUS=one");
	close(f->fd);
	unlink(f->path);
	manager_bind(f, f->path);
	assert_int_equal(notify_send("STATUS=two"), 0);
	assert_string_equal(manager_recv(f, 1000), "STATUS=two");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_env, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_loop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_manager_rebinds, setup,
		    teardown),
	};

	log_init("test_notify", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
