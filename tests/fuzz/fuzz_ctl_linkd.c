/*
 * Fuzz target: linkd's ctl handler (linkd/ctl.c, ctl_handle_priv) on
 * JSON requests, with a linkd that knows two members and has no links,
 * sessions or sockets. "debug_route" (privileged) changes the relay
 * overrides kept between inputs, which is fine: they are bounded
 * (FWD_DEBUG_MAX). See fuzz_ctl.h for the request path and the reply
 * checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "tests/fuzz/fuzz_ctl.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct linkd *ld;
static struct conf *conf;

static json_t *
handle(json_t *req, int may_change, void *arg)
{
	return ctl_handle_priv(arg, req, may_change);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct record r;
	int i;

	fuzz_init();
	ld = calloc(1, sizeof(*ld));
	conf = calloc(1, sizeof(*conf));
	if (ld == NULL || conf == NULL)
		abort();
	conf_defaults(conf);
	snprintf(conf->name, sizeof(conf->name), "carol");
	ld->conf = conf;
	TAILQ_INIT(&ld->peers);
	TAILQ_INIT(&ld->links);
	TAILQ_INIT(&ld->reap);
	ld->lfd = -1;
	ld->ofd = -1;
	ld->dp.fd = -1;
	forward_init(ld);
	ld->self_known = 1;
	fuzz_fill(ld->self_id, sizeof(ld->self_id), 0x5a);
	snprintf(ld->self_name, sizeof(ld->self_name), "carol");
	hex_encode(ld->self_hex, ld->self_id, sizeof(ld->self_id));
	for (i = 0; i < 2; i++) {
		if (fuzz_record_make(&r, i) == -1 ||
		    peers_update(ld, &r) == NULL)
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_one(data, size, handle, ld);
	FUZZ_CHECK(ld->npeers == 2);
	FUZZ_CHECK(ld->fwd.ndbg >= 0 && ld->fwd.ndbg <= FWD_DEBUG_MAX);
	return 0;
}
