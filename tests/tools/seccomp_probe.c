/*
 * seccomp_probe: tries one thing no daemon may do, for
 * tests/netns/test_container.sh, which runs it inside a daemon's
 * container (so under that container's OCI seccomp profile and user).
 *
 *   seccomp_probe TEST [DAEMON [unix]]
 *
 * TEST is execve, ptrace, fork, packet (socket(AF_PACKET)), inet
 * (socket(AF_INET)) or shadow (open("/etc/shadow")). With DAEMON, the
 * probe first enters that daemon's own filter (sandbox_enter_flags, as
 * the daemon does once set up; "unix": onion mode over Unix sockets),
 * stacked on the container's. Prints "refused: ERRNO" and exits 0 when
 * the call fails, prints "allowed" and exits 1 when it succeeds; a
 * filter that kills ends the process by SIGSYS (status 159 in a shell).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/sandbox.h"

static int
result(int rc)
{
	if (rc == -1) {
		printf("refused: %s\n", strerror(errno));
		return 0;
	}
	printf("allowed\n");
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum daemon d;
	} names[] = {
		{"tund", D_TUND}, {"linkd", D_LINKD}, {"keyd", D_KEYD},
		{"routed", D_ROUTED},
	};
	const char *t;
	/* Itself again: if execve works, the new image says so. */
	char *const args[] = {"/proc/self/exe", "exec-worked", NULL};
	size_t i;
	pid_t pid;
	int fd;

	if (argc < 2 || argc > 4)
		goto usage;
	t = argv[1];
	if (strcmp(t, "exec-worked") == 0)
		return result(0);
	if (argc >= 3) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(argv[2], names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			goto usage;
		if (sandbox_enter_flags(names[i].d, argc == 4 &&
		    strcmp(argv[3], "unix") == 0 ? SANDBOX_UNIX_ONLY : 0) ==
		    -1) {
			printf("cannot enter %s's filter: %s\n", argv[2],
			    strerror(errno));
			return 2;
		}
	}
	fflush(stdout);
	if (strcmp(t, "execve") == 0)
		return result(execve(args[0], args, args + 2));
	if (strcmp(t, "ptrace") == 0)
		return result((int)ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	if (strcmp(t, "fork") == 0) {
		if ((pid = fork()) == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return result(pid == -1 ? -1 : 0);
	}
	if (strcmp(t, "packet") == 0)
		return result(socket(AF_PACKET, SOCK_RAW, 0));
	if (strcmp(t, "inet") == 0)
		return result(socket(AF_INET, SOCK_STREAM, 0));
	if (strcmp(t, "shadow") == 0) {
		fd = open("/etc/shadow", O_RDONLY);
		return result(fd);
	}
usage:
	fprintf(stderr, "usage: seccomp_probe execve|ptrace|fork|packet|"
	    "inet|shadow [tund|linkd|keyd|routed [unix]]\n");
	return 2;
}
