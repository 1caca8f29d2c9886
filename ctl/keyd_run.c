/*
 * keyd's one-shot modes, run by init and join: the CLI never holds a
 * secret, so whatever needs the identity (making it, signing our
 * record, the join exchange) runs in `onionmesh-keyd --genkey` or
 * `--join`, whose stdout comes back here line by line and whose stderr
 * (its reasons, in its words) goes straight to the user.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/clock.h"
#include "proto/record.h"

#define KEYD_OUT_MAX (64 * 1024)   /* a --join reply's longest line */

/* How the last run ended when it failed ("exit status 3"). */
static char last_end[64];

/* Fork keyd with argv, input (or /dev/null) on its stdin; *out reads its
 * stdout. The pid, or -1 printed. */
static pid_t
keyd_spawn(const char *keyd, const char **argv, const char *input,
    int *out)
{
	int p[2], in[2], fd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		ctl_warn("pipe");
		return -1;
	}
	in[0] = in[1] = -1;
	if (input != NULL && pipe2(in, O_CLOEXEC) == -1) {
		ctl_warn("pipe");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		ctl_warn("fork");
		close(p[0]);
		close(p[1]);
		if (input != NULL) {
			close(in[0]);
			close(in[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (input != NULL)
			dup2(in[0], 0);
		else if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		dup2(p[1], 1);
		execv(keyd, (char *const *)argv);
		fprintf(stderr, "onionmesh: cannot run %s: %s\n", keyd,
		    strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (input != NULL) {
		/* One line, far below a pipe's buffer: this never blocks. */
		close(in[0]);
		if (write(in[1], input, strlen(input)) == -1 ||
		    write(in[1], "\n", 1) == -1)
			ctl_warn("writing to %s", keyd);
		close(in[1]);
	}
	*out = p[0];
	return pid;
}

/* keyd's stdout (fd), line by line to on_line, until it ends or wait_s
 * passes (then keyd is killed and 1 returned). */
static int
keyd_lines(int fd, pid_t pid, int wait_s, ctl_line_fn on_line, void *arg)
{
	static char buf[KEYD_OUT_MAX + 1];
	double deadline = mono_now() + wait_s;
	struct pollfd pfd;
	size_t len = 0;
	char *nl, *start;
	ssize_t r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, 200);
		if (r == -1 && errno != EINTR)
			return 0;
		if (mono_now() > deadline) {
			kill(pid, SIGKILL);
			return 1;
		}
		if (r <= 0)
			continue;
		r = read(fd, buf + len, KEYD_OUT_MAX - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		len += (size_t)r;
		buf[len] = '\0';
		start = buf;
		while ((nl = strchr(start, '\n')) != NULL) {
			*nl = '\0';
			if (on_line != NULL)
				on_line(arg, start);
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == KEYD_OUT_MAX)     /* a line that long: drop it */
			len = 0;
	}
}

/*
 * Run keyd with extra arguments; its stdout comes back through on_line,
 * one line at a time; its stderr is ours. Killed after wait_s. 0 when it
 * exited 0, -1 otherwise (a message printed unless quiet_fail).
 */
int
ctl_run_keyd(struct ctl *c, const char *keyd, const char *const *extra,
    const char *input, int wait_s, ctl_line_fn on_line, void *arg)
{
	const char *argv[16];
	int out, st, i = 0, killed;
	pid_t pid;

	snprintf(last_end, sizeof(last_end), "it did not run");

	argv[i++] = keyd;
	argv[i++] = "-n";
	argv[i++] = c->paths.net;
	if (c->dir) {
		argv[i++] = "-d";
		argv[i++] = c->dir;
	}
	for (; *extra != NULL && i < 15; extra++)
		argv[i++] = *extra;
	argv[i] = NULL;

	if ((pid = keyd_spawn(keyd, argv, input, &out)) == -1)
		return -1;
	killed = keyd_lines(out, pid, wait_s, on_line, arg);
	close(out);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			ctl_warn("waiting for %s", keyd);
			return -1;
		}
	if (killed) {
		ctl_warnx("%s did not finish within %d s; stopped it", keyd,
		    wait_s);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(last_end, sizeof(last_end), "exit status %d",
		    WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(last_end, sizeof(last_end), "killed by signal %d",
		    WTERMSIG(st));
	return -1;
}

const char *
ctl_keyd_end(void)
{
	return last_end;
}

struct genkey_out {
	uint8_t pk[MEMBER_ID_BYTES];
	int have;
	char first[81];          /* its first line, for the error */
};

static void
genkey_line(void *arg, char *line)
{
	struct genkey_out *g = arg;

	while (*line == ' ' || *line == '\t')
		line++;
	if (g->first[0] == '\0')
		snprintf(g->first, sizeof(g->first), "%s", line);
	if (strlen(line) == 2 * MEMBER_ID_BYTES &&
	    hex_decode(g->pk, MEMBER_ID_BYTES, line) == 0)
		g->have = 1;
}

int
ctl_genkey(struct ctl *c, const char *keyd, uint8_t pk[MEMBER_ID_BYTES])
{
	static const char *const extra[] = { "--genkey", NULL };
	struct genkey_out g;

	memset(&g, 0, sizeof(g));
	if (ctl_run_keyd(c, keyd, extra, NULL, 30, genkey_line, &g) == -1) {
		ctl_warnx("%s --genkey failed (%s)", keyd, ctl_keyd_end());
		return -1;
	}
	if (!g.have) {
		ctl_warnx("%s --genkey printed `%s', not a public key "
		    "(64 hex digits)", keyd, g.first);
		return -1;
	}
	memcpy(pk, g.pk, MEMBER_ID_BYTES);
	return 0;
}
