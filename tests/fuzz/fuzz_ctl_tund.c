/*
 * Fuzz target: tund's ctl handler (tund/ctl.c, tund_ctl_handle) on JSON
 * requests, with a tund whose device is configured but that has no
 * sockets. See fuzz_ctl.h for the request path and the reply checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tund/tund.h"
#include "tests/fuzz/fuzz_ctl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tund *td;

static json_t *
handle(json_t *req, int may_change, void *arg)
{
	return tund_ctl_handle(arg, req, may_change);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	if ((td = calloc(1, sizeof(*td))) == NULL)
		abort();
	conf_defaults(&td->d.conf);
	td->d.self = D_TUND;
	if (prefix_parse(&td->d.conf.ipv4, "10.77.0.3/16") == -1 ||
	    prefix_parse(&td->d.conf.ipv6, "fd12:3456:789a::3/48") == -1)
		abort();
	td->tun.fd = -1;
	snprintf(td->tun.ifname, sizeof(td->tun.ifname), "om-fuzz");
	td->tun.offloads = 0x67;
	td->dp.tun_fd = -1;
	td->dp.lfd = -1;
	td->dp.cfd = -1;
	td->up = 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_one(data, size, handle, td);
	return 0;
}
