/*
 * seccomp-bpf allow-lists, after OpenSSH's sandbox-seccomp-filter.c: the
 * architecture is checked first, then an allow-list per daemon; what
 * libc tries and we do not need fails quietly with EACCES; everything
 * else kills the process. Entered after privdrop(), as the last step of
 * a daemon's set-up.
 */
#ifndef OM_SANDBOX_H
#define OM_SANDBOX_H

#include "proto/msg.h"

int sandbox_enter(enum daemon d) __attribute__((warn_unused_result));

#endif
