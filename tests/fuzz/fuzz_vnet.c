/*
 * Fuzz target: a peer's virtio-net header against its packet
 * (proto/vnet.c), the last check before tund writes a member's packet
 * to the kernel.
 *
 * Input: a whole superpacket (vnet header, IP packet). Whatever the
 * verdict, nothing is read past the input; a cleared header is all
 * zero; a kept one asks for nothing outside the packet: its segment
 * size and checksum position lie inside it, and segmentation only with
 * a checksum request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vnet.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct vnet_hdr h;
	enum vnet_verdict v;
	const char *why = NULL;
	uint8_t *msg;
	size_t n;

	if (size > TUN_MSG_MAX)
		return 0;
	/* An exact-size copy, so ASan sees any read past the end. */
	if ((msg = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(msg, data, size);
	v = vnet_check(msg, size, &why);
	FUZZ_CHECK(v == VNET_OK || v == VNET_CLEARED || v == VNET_DROP);
	FUZZ_CHECK((v == VNET_OK) == (why == NULL));
	if (v == VNET_CLEARED)
		FUZZ_CHECK(memcmp(msg, zero, VNET_HDR_LEN) == 0);
	if (v == VNET_OK) {
		FUZZ_CHECK(memcmp(msg, data, size) == 0);
		vnet_hdr_decode(&h, msg);
		n = size - VNET_HDR_LEN;
		FUZZ_CHECK(h.hdr_len <= n);
		FUZZ_CHECK(h.gso_size <= n);
		if (h.flags & VNET_F_NEEDS_CSUM)
			FUZZ_CHECK((size_t)h.csum_start + h.csum_offset + 2 <=
			    n);
		if (h.gso_type != VNET_GSO_NONE)
			FUZZ_CHECK((h.flags & VNET_F_NEEDS_CSUM) &&
			    h.gso_size > 0);
	}
	free(msg);
	return 0;
}
