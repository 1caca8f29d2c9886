/*
 * seccomp-bpf allow-lists, after OpenSSH's sandbox-seccomp-filter.c: the
 * architecture is checked first, then an allow-list per daemon; what
 * libc tries and we do not need fails quietly with EACCES; everything
 * else kills the process. Entered after privdrop(), as the last step of
 * a daemon's set-up.
 */
#ifndef OM_SANDBOX_H
#define OM_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "proto/msg.h"

/* libseccomp's; its header is not included here because it pulls in
 * <elf.h>, whose EV_NONE collides with libev's in every file that
 * includes both. Users of sandbox_rules include <seccomp.h>. */
struct scmp_arg_cmp;

int sandbox_enter(enum daemon d) __attribute__((warn_unused_result));
/* SANDBOX_UNIX_ONLY: linkd or keyd that reaches tor by Unix sockets
 * (onion mode) may open no AF_INET/AF_INET6/netlink socket at all. */
#define SANDBOX_UNIX_ONLY 0x1
int sandbox_enter_flags(enum daemon d, unsigned flags)
    __attribute__((warn_unused_result));

/*
 * The rules as data, for an outer filter made from the same list (the
 * OCI profiles of deploy/seccomp/gen_seccomp.c, and the test that they
 * have not drifted). sandbox_rules() calls fn once per rule, in the
 * order sandbox_enter_flags() adds them to libseccomp, with the action
 * (SCMP_ACT_*), the syscall number (libseccomp's SCMP_SYS: negative for
 * a call this architecture lacks) and up to two argument comparisons;
 * `self` is the pid that kill/tgkill may target. The default action,
 * for every call no rule matches, is sandbox_default_action().
 * SANDBOX_SETUP adds what the daemon does before it enters its own
 * filter (loader, privdrop, tund's device set-up, seccomp itself);
 * sandbox_enter_flags() ignores it.
 */
#define SANDBOX_SETUP 0x2
typedef int (*sandbox_rule_fn)(void *arg, uint32_t action, int nr,
    unsigned int narg, const struct scmp_arg_cmp *args);
int sandbox_rules(enum daemon d, unsigned flags, pid_t self,
    sandbox_rule_fn fn, void *arg) __attribute__((warn_unused_result));
uint32_t sandbox_default_action(void);

#endif
