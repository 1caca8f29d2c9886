/*
 * Unit tests for keyd's tables and the small helpers its modules share:
 * the message table agrees with the catalogue and takes each message
 * only from its sender; the ctl table marks exactly reload, invite and
 * revoke (and log with a level) as changing state, so the door refuses
 * them to readers; keyd_grow doubles an array and keeps what it held;
 * keyd_id_slot finds an element by member id or adds a zeroed one; the
 * crypto rpc refuses a type it has no row for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "keyd/keyd.h"
#include "proto/dispatch.h"
#include "proto/log.h"

static void
test_msgs_match_catalogue(void **state)
{
	size_t i;

	assert_int_equal(msg_table_check(keyd_msgs, keyd_nmsgs, "keyd"), 0);
	for (i = 0; i < keyd_nmsgs; i++) {
		/* linkd hands keyd what members send; routed our links. */
		if (keyd_msgs[i].type == MSG_EDGES_LOCAL)
			assert_int_equal(keyd_msgs[i].from, D_ROUTED);
		else
			assert_int_equal(keyd_msgs[i].from, D_LINKD);
	}
	assert_int_equal(keyd_nmsgs, 4);
}

static void
test_ctl_access(void **state)
{
	static const char *const change[] = {"reload", "invite", "revoke",
	    "grant"};
	static const char *const readers[] = {"status", "records", "export",
	    "edges", "revoked"};
	const struct ctl_cmd *c;
	json_t *req;
	size_t i;

	for (i = 0; i < sizeof(change) / sizeof(change[0]); i++) {
		c = ctl_cmd_find(keyd_ctl_cmds, keyd_nctl_cmds, change[i]);
		assert_non_null(c);
		assert_int_equal(c->access, CTL_CHANGE);
	}
	req = json_pack("{s:s}", "cmd", "x");
	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		c = ctl_cmd_find(keyd_ctl_cmds, keyd_nctl_cmds, readers[i]);
		assert_non_null(c);
		assert_int_equal(ctl_cmd_changes(c, req), 0);
	}
	c = ctl_cmd_find(keyd_ctl_cmds, keyd_nctl_cmds, "log");
	assert_non_null(c);
	assert_int_equal(ctl_cmd_changes(c, req), 0);
	json_object_set_new(req, "level", json_string("debug"));
	assert_int_equal(ctl_cmd_changes(c, req), 1);
	json_decref(req);
	assert_null(ctl_cmd_find(keyd_ctl_cmds, keyd_nctl_cmds, "stop"));
	/* The door lists the commands in table order; the old reply did
	 * too, and scripts may read it. */
	assert_string_equal(keyd_ctl_cmds[0].name, "status");
	assert_string_equal(keyd_ctl_cmds[keyd_nctl_cmds - 1].name, "log");
	assert_int_equal(keyd_nctl_cmds, 10);
}

static void
test_grow(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0, n, i;

	for (n = 0; n < 100; n++) {
		assert_int_equal(keyd_grow(&v, &cap, n, sizeof(*v), 8), 0);
		assert_true(cap > n);
		v[n] = (uint32_t)n * 7;
	}
	/* 8, 16, 32, 64, 128: doubled from the first size. */
	assert_int_equal(cap, 128);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i], i * 7);
	/* Room left: nothing moves. */
	assert_int_equal(keyd_grow(&v, &cap, 100, sizeof(*v), 8), 0);
	assert_int_equal(cap, 128);
	free(v);
}

struct slot {
	uint32_t x;
	uint8_t id[MEMBER_ID_BYTES];
};

static void
test_id_slot(void **state)
{
	struct slot *v = NULL, *e;
	uint8_t id[MEMBER_ID_BYTES];
	size_t n = 0, cap = 0, i;

	for (i = 0; i < 40; i++) {
		memset(id, (int)i, sizeof(id));
		e = keyd_id_slot(&v, &n, &cap, sizeof(*v),
		    offsetof(struct slot, id), id);
		assert_non_null(e);
		assert_int_equal(e->x, 0);
		e->x = (uint32_t)i + 1;
	}
	assert_int_equal(n, 40);
	/* Found again where it is, with what it held; nothing added. */
	memset(id, 17, sizeof(id));
	e = keyd_id_slot(&v, &n, &cap, sizeof(*v), offsetof(struct slot, id),
	    id);
	assert_ptr_equal(e, &v[17]);
	assert_int_equal(e->x, 18);
	assert_int_equal(n, 40);
	free(v);
}

static void
test_rpc_unknown_type(void **state)
{
	static struct keyd k;
	uint8_t buf[64];
	struct msg_hdr h;
	struct buf_w w;

	memset(&h, 0, sizeof(h));
	h.type = MSG_RECORD;
	bw_init(&w, buf, sizeof(buf));
	/* No row: no reply, and nothing counted as done. */
	assert_int_equal(keyd_rpc(&h, buf, &w, &k), 0);
	/* Nor for the retired SIGN_REQ (0x0112): keyd signs nothing for
	 * linkd. */
	h.type = 0x0112;
	h.length = 5;
	memcpy(buf, "\0\3abc", 5);
	assert_int_equal(keyd_rpc(&h, buf, &w, &k), 0);
	assert_int_equal(w.len, 0);
	assert_int_equal(k.dh_ok, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgs_match_catalogue),
		cmocka_unit_test(test_ctl_access),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_id_slot),
		cmocka_unit_test(test_rpc_unknown_type),
	};

	log_init("test", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
