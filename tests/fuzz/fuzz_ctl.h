/*
 * The part of the ctl fuzz targets (fuzz_ctl_<daemon>.c) they share:
 * what proto/ipc.c does with a request before a daemon's handler sees it
 * (its ipc_ctl_handle is static, so the same steps are repeated here:
 * json_loadb with JSON_REJECT_DUPLICATES, an object, a non-empty "cmd"
 * string), and the checks on every reply: an object with a boolean
 * "ok", an "error" string when it is false, and a reply that serializes
 * and parses back.
 *
 * A target is one daemon so its state can be built by hand from its
 * own headers (tund's and linkd's both define struct datapath); the
 * request and the state are what they fuzz, the socket is not.
 */
#ifndef OM_FUZZ_CTL_H
#define OM_FUZZ_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "tests/fuzz/fuzz_common.h"

typedef json_t *(*fuzz_ctl_fn)(json_t *req, int may_change, void *arg);

static inline void
fuzz_ctl_reply(json_t *reply)
{
	json_t *ok, *err, *back;
	char *text;

	/* ipc.c replaces a NULL or non-object reply with an internal
	 * error; a handler that gives one is still a bug worth seeing. */
	FUZZ_CHECK(reply != NULL && json_is_object(reply));
	ok = json_object_get(reply, "ok");
	FUZZ_CHECK(json_is_boolean(ok));
	if (json_is_false(ok)) {
		err = json_object_get(reply, "error");
		FUZZ_CHECK(json_is_string(err) &&
		    json_string_length(err) > 0);
	}
	text = json_dumps(reply, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	back = json_loads(text, 0, NULL);
	FUZZ_CHECK(back != NULL && json_equal(back, reply));
	json_decref(back);
	free(text);
}

/* One request as the ctl socket would deliver it. */
static inline void
fuzz_ctl_one(const uint8_t *data, size_t size, fuzz_ctl_fn fn, void *arg)
{
	json_error_t jerr;
	json_t *req, *cmd, *reply;
	int may_change;

	if (size < 1)
		return;
	/* Bit 0 of the first byte: the caller's privilege. Handlers that
	 * change state do file I/O under the daemon's own paths, which
	 * do not exist here; they must still answer. */
	may_change = data[0] & 1;
	req = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return;
	cmd = json_object_get(req, "cmd");
	if (!json_is_object(req) || !json_is_string(cmd) ||
	    json_string_length(cmd) == 0) {
		json_decref(req);
		return;
	}
	reply = fn(req, may_change, arg);
	fuzz_ctl_reply(reply);
	json_decref(reply);
	json_decref(req);
}

#endif
