/*
 * gen_seccomp: the OCI seccomp profiles of the containers
 * (deploy/container/), one per daemon and mode, made from the rules the
 * daemons install themselves (proto/sandbox.c, sandbox_rules()), so
 * there is one list and the profiles cannot drift from it.
 *
 *   gen_seccomp DIR           write DIR/onionmesh-<daemon>[-unix].json
 *   gen_seccomp --check DIR   exit 1, naming the rule, when a file in
 *                             DIR differs from the compiled list, as
 *                             text and once loaded into libseccomp
 *                             the way runc loads it
 *
 * A container's profile is applied by the runtime before the daemon's
 * execve, so it is the daemon's own list plus what the daemon does
 * before it enters its own filter (SANDBOX_SETUP: execve, privdrop,
 * tund's device set-up, seccomp() itself). Once the daemon is up, its
 * own filter (the strict one, with the same rules minus those) stacks
 * on this one. The default action is the daemon's: kill the process.
 *
 * kill and tgkill are allowed towards pid 1 only: in its container the
 * daemon is PID 1 (the images start it with no init process).
 *
 * Rules map one to one onto OCI entries: a rule without argument
 * comparisons joins the previous entry when the action is the same; a
 * rule with comparisons gets its own entry, its "args" ANDed, as
 * libseccomp (which runc uses) reads them. "value" is libseccomp's
 * datum_a (the mask for SCMP_CMP_MASKED_EQ), "valueTwo" datum_b.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <seccomp.h>

#include "proto/msg.h"
#include "proto/sandbox.h"

/* Every profile: file name, daemon, sandbox flags. */
static const struct profile {
	const char *file;
	enum daemon d;
	unsigned flags;
} profiles[] = {
	{"onionmesh-tund.json", D_TUND, 0},
	{"onionmesh-linkd.json", D_LINKD, 0},
	{"onionmesh-linkd-unix.json", D_LINKD, SANDBOX_UNIX_ONLY},
	{"onionmesh-keyd.json", D_KEYD, 0},
	{"onionmesh-keyd-unix.json", D_KEYD, SANDBOX_UNIX_ONLY},
	{"onionmesh-routed.json", D_ROUTED, 0},
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

/* The daemon's pid in its container (see the top of this file). */
#define CONTAINER_PID 1

struct gen {
	json_t *calls; /* the "syscalls" array */
	int err;
};

static const char *
op_name(enum scmp_compare op)
{
	switch (op) {
	case SCMP_CMP_NE:
		return "SCMP_CMP_NE";
	case SCMP_CMP_LT:
		return "SCMP_CMP_LT";
	case SCMP_CMP_LE:
		return "SCMP_CMP_LE";
	case SCMP_CMP_EQ:
		return "SCMP_CMP_EQ";
	case SCMP_CMP_GE:
		return "SCMP_CMP_GE";
	case SCMP_CMP_GT:
		return "SCMP_CMP_GT";
	case SCMP_CMP_MASKED_EQ:
		return "SCMP_CMP_MASKED_EQ";
	default:
		return NULL;
	}
}

/* An OCI action object: {"action": ...} plus errnoRet for ERRNO. */
static json_t *
action_json(uint32_t action)
{
	if (action == SCMP_ACT_ALLOW)
		return json_pack("{s:s}", "action", "SCMP_ACT_ALLOW");
	if (action == SCMP_ACT_KILL_PROCESS)
		return json_pack("{s:s}", "action", "SCMP_ACT_KILL_PROCESS");
	if (action == SCMP_ACT_KILL_THREAD)
		return json_pack("{s:s}", "action", "SCMP_ACT_KILL_THREAD");
	if (action == SCMP_ACT_TRAP)
		return json_pack("{s:s}", "action", "SCMP_ACT_TRAP");
	if ((action & 0xffff0000u) == SCMP_ACT_ERRNO(0))
		return json_pack("{s:s,s:i}", "action", "SCMP_ACT_ERRNO",
		    "errnoRet", (int)(action & 0xffffu));
	return NULL;
}

/* json_equal, but two missing values are the same too. */
static int
same(json_t *a, json_t *b)
{
	return (a == NULL && b == NULL) || json_equal(a, b);
}

static int
gen_rule(void *arg, uint32_t action, int nr, unsigned int narg,
    const struct scmp_arg_cmp *args)
{
	struct gen *g = arg;
	json_t *e, *act, *names, *a, *last;
	char *name;
	unsigned int i;

	if (nr < 0)
		return 0; /* not a call of this architecture: skipped, as
			   * sandbox_enter_flags() skips it */
	if ((name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    nr)) == NULL) {
		fprintf(stderr, "gen_seccomp: no name for syscall %d\n", nr);
		g->err = 1;
		return -1;
	}
	if ((act = action_json(action)) == NULL) {
		fprintf(stderr, "gen_seccomp: action 0x%x of %s has no OCI "
		    "name\n", action, name);
		free(name);
		g->err = 1;
		return -1;
	}
	/* Unconditional, same action as the last unconditional entry:
	 * one more name there. */
	last = json_array_size(g->calls) ? json_array_get(g->calls,
	    json_array_size(g->calls) - 1) : NULL;
	if (narg == 0 && last != NULL && !json_object_get(last, "args") &&
	    json_equal(json_object_get(last, "action"),
	    json_object_get(act, "action")) &&
	    same(json_object_get(last, "errnoRet"),
	    json_object_get(act, "errnoRet"))) {
		json_array_append_new(json_object_get(last, "names"),
		    json_string(name));
		json_decref(act);
		free(name);
		return 0;
	}
	names = json_pack("[s]", name);
	free(name);
	e = json_object();
	json_object_set_new(e, "names", names);
	json_object_update(e, act);
	json_decref(act);
	if (narg > 0) {
		a = json_array();
		for (i = 0; i < narg; i++) {
			if (op_name(args[i].op) == NULL) {
				fprintf(stderr, "gen_seccomp: comparison %d "
				    "has no OCI name\n", (int)args[i].op);
				g->err = 1;
				json_decref(a);
				json_decref(e);
				return -1;
			}
			json_array_append_new(a, json_pack("{s:I,s:I,s:I,s:s}",
			    "index", (json_int_t)args[i].arg,
			    "value", (json_int_t)args[i].datum_a,
			    "valueTwo", (json_int_t)args[i].datum_b,
			    "op", op_name(args[i].op)));
		}
		json_object_set_new(e, "args", a);
	}
	json_array_append_new(g->calls, e);
	return 0;
}

static const char *
arch_name(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "SCMP_ARCH_X86_64";
	case SCMP_ARCH_AARCH64:
		return "SCMP_ARCH_AARCH64";
	case SCMP_ARCH_X86:
		return "SCMP_ARCH_X86";
	case SCMP_ARCH_ARM:
		return "SCMP_ARCH_ARM";
	case SCMP_ARCH_PPC64LE:
		return "SCMP_ARCH_PPC64LE";
	case SCMP_ARCH_S390X:
		return "SCMP_ARCH_S390X";
	case SCMP_ARCH_RISCV64:
		return "SCMP_ARCH_RISCV64";
	default:
		return NULL;
	}
}

/* The profile as a JSON object; NULL (and a message) on error. */
static json_t *
profile_json(const struct profile *p)
{
	struct gen g = {NULL, 0};
	json_t *root, *deflt;

	if (arch_name() == NULL) {
		fprintf(stderr, "gen_seccomp: this architecture (0x%x) has "
		    "no OCI name here; add it to arch_name()\n",
		    seccomp_arch_native());
		return NULL;
	}
	if ((deflt = action_json(sandbox_default_action())) == NULL)
		return NULL;
	g.calls = json_array();
	if (sandbox_rules(p->d, p->flags | SANDBOX_SETUP, CONTAINER_PID,
	    gen_rule, &g) == -1 || g.err) {
		fprintf(stderr, "gen_seccomp: cannot list the rules of %s\n",
		    daemon_name(p->d));
		json_decref(g.calls);
		json_decref(deflt);
		return NULL;
	}
	root = json_pack("{s:s,s:o,s:[s],s:o}",
	    "comment", "generated by gen_seccomp from proto/sandbox.c: "
	    "do not edit",
	    "defaultAction", json_incref(json_object_get(deflt, "action")),
	    "architectures", arch_name(),
	    "syscalls", g.calls);
	json_decref(deflt);
	return root;
}

static char *
dump(json_t *j)
{
	return json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
}

static int
write_profile(const char *dir, const struct profile *p)
{
	char path[4096], tmp[4200], *text;
	json_t *j;
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, p->file);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((j = profile_json(p)) == NULL)
		return -1;
	if ((text = dump(j)) == NULL)
		goto out;
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "gen_seccomp: %s: %s\n", tmp,
		    strerror(errno));
		goto out;
	}
	fprintf(f, "%s\n", text);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		fprintf(stderr, "gen_seccomp: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(j);
	return rc;
}

/* The inverse of action_json: an OCI entry's action, or 0 with *ok 0. */
static uint32_t
action_of(json_t *e, int *ok)
{
	const char *a = json_string_value(json_object_get(e, "action"));
	json_t *er = json_object_get(e, "errnoRet");

	*ok = 1;
	if (a == NULL)
		*ok = 0;
	else if (strcmp(a, "SCMP_ACT_ALLOW") == 0)
		return SCMP_ACT_ALLOW;
	else if (strcmp(a, "SCMP_ACT_KILL_PROCESS") == 0)
		return SCMP_ACT_KILL_PROCESS;
	else if (strcmp(a, "SCMP_ACT_KILL_THREAD") == 0)
		return SCMP_ACT_KILL_THREAD;
	else if (strcmp(a, "SCMP_ACT_TRAP") == 0)
		return SCMP_ACT_TRAP;
	else if (strcmp(a, "SCMP_ACT_ERRNO") == 0 && json_is_integer(er))
		return SCMP_ACT_ERRNO((uint32_t)json_integer_value(er));
	*ok = 0;
	return 0;
}

static int
op_of(const char *s, enum scmp_compare *op)
{
	static const enum scmp_compare ops[] = {
		SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ,
		SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ,
	};
	size_t i;

	for (i = 0; s != NULL && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op_name(ops[i]), s) == 0) {
			*op = ops[i];
			return 0;
		}
	return -1;
}

/*
 * Load an OCI profile into a libseccomp filter the way runc does (one
 * rule per name of an entry, its "args" ANDed), so what a container
 * gets can be compared with the daemon's own list as libseccomp sees
 * it, not only as text. NULL (and a message) on anything it cannot
 * read.
 */
static scmp_filter_ctx
load_oci(const char *path, json_t *j)
{
	struct scmp_arg_cmp args[6];
	scmp_filter_ctx ctx;
	const char *name;
	json_t *e, *n, *a;
	size_t i, k, m;
	uint32_t act;
	int ok, nr;

	memset(args, 0, sizeof(args));
	e = json_pack("{s:O}", "action", json_object_get(j, "defaultAction"));
	act = e != NULL ? action_of(e, &ok) : (ok = 0);
	json_decref(e);
	if (!ok || (ctx = seccomp_init(act)) == NULL) {
		printf("%s: default action not understood\n", path);
		return NULL;
	}
	json_array_foreach(json_object_get(j, "syscalls"), i, e) {
		act = action_of(e, &ok);
		a = json_object_get(e, "args");
		if (!ok || json_array_size(a) > 6) {
			printf("%s: entry %zu not understood\n", path, i);
			goto fail;
		}
		json_array_foreach(a, k, n) {
			args[k].arg = (unsigned int)json_integer_value(
			    json_object_get(n, "index"));
			args[k].datum_a = (scmp_datum_t)json_integer_value(
			    json_object_get(n, "value"));
			args[k].datum_b = (scmp_datum_t)json_integer_value(
			    json_object_get(n, "valueTwo"));
			if (op_of(json_string_value(json_object_get(n, "op")),
			    &args[k].op) == -1) {
				printf("%s: entry %zu: comparison not "
				    "understood\n", path, i);
				goto fail;
			}
		}
		json_array_foreach(json_object_get(e, "names"), m, n) {
			name = json_string_value(n);
			nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR ||
			    seccomp_rule_add_array(ctx, act, nr,
			    (unsigned int)json_array_size(a), args) != 0) {
				printf("%s: entry %zu: no rule for %s\n", path,
				    i, name ? name : "?");
				goto fail;
			}
		}
	}
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

static int
add_ctx(void *arg, uint32_t action, int nr, unsigned int narg,
    const struct scmp_arg_cmp *args)
{
	if (nr < 0)
		return 0;
	return seccomp_rule_add_array(arg, action, nr, narg, args) == 0 ?
	    0 : -1;
}

/* A filter's pseudo-code (PFC), as one string to compare. */
static char *
pfc_of(scmp_filter_ctx ctx)
{
	char *buf = NULL;
	long len;
	FILE *f;

	if ((f = tmpfile()) == NULL)
		return NULL;
	if (seccomp_export_pfc(ctx, fileno(f)) != 0 ||
	    (len = lseek(fileno(f), 0, SEEK_END)) < 0 ||
	    lseek(fileno(f), 0, SEEK_SET) != 0 ||
	    (buf = calloc(1, (size_t)len + 1)) == NULL ||
	    read(fileno(f), buf, (size_t)len) != len) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	return buf;
}

/*
 * The file as runc would load it against the daemon's list as the
 * daemon adds it (plus SANDBOX_SETUP): the same filter, in libseccomp's
 * own words. This catches what a text comparison cannot: an entry
 * whose name, arguments or action mean something else once loaded.
 */
static int
check_loaded(const char *path, json_t *have, const struct profile *p)
{
	scmp_filter_ctx want, got;
	char *a = NULL, *b = NULL;
	int rc = -1;

	if ((got = load_oci(path, have)) == NULL)
		return -1;
	if ((want = seccomp_init(sandbox_default_action())) == NULL) {
		seccomp_release(got);
		return -1;
	}
	if (sandbox_rules(p->d, p->flags | SANDBOX_SETUP, CONTAINER_PID,
	    add_ctx, want) == -1 || (a = pfc_of(want)) == NULL ||
	    (b = pfc_of(got)) == NULL)
		printf("%s: cannot build the filters to compare\n", path);
	else if (strcmp(a, b) != 0)
		printf("%s: loaded, it is not the filter of %s's list\n",
		    path, daemon_name(p->d));
	else
		rc = 0;
	free(a);
	free(b);
	seccomp_release(want);
	seccomp_release(got);
	return rc;
}

/*
 * The file against the compiled list: the same entries in the same
 * order. On a difference, name the first entry that differs, so a
 * stale or hand-edited profile says what moved.
 */
static int
check_profile(const char *dir, const struct profile *p)
{
	char path[4096], *a, *b;
	json_error_t jerr;
	json_t *want, *have, *wc, *hc;
	size_t i, n;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, p->file);
	if ((want = profile_json(p)) == NULL)
		return -1;
	if ((have = json_load_file(path, 0, &jerr)) == NULL) {
		printf("%s: cannot read it: %s (run make seccomp)\n", path,
		    jerr.text);
		json_decref(want);
		return -1;
	}
	if (!json_equal(json_object_get(want, "defaultAction"),
	    json_object_get(have, "defaultAction")) ||
	    !json_equal(json_object_get(want, "architectures"),
	    json_object_get(have, "architectures"))) {
		printf("%s: default action or architectures differ from "
		    "the daemon's filter\n", path);
		goto out;
	}
	wc = json_object_get(want, "syscalls");
	hc = json_object_get(have, "syscalls");
	n = json_array_size(wc) > json_array_size(hc) ?
	    json_array_size(wc) : json_array_size(hc);
	for (i = 0; i < n; i++) {
		if (json_equal(json_array_get(wc, i), json_array_get(hc, i)))
			continue;
		a = json_array_get(wc, i) ? json_dumps(json_array_get(wc, i),
		    JSON_COMPACT | JSON_PRESERVE_ORDER) : strdup("nothing");
		b = json_array_get(hc, i) ? json_dumps(json_array_get(hc, i),
		    JSON_COMPACT | JSON_PRESERVE_ORDER) : strdup("nothing");
		printf("%s: entry %zu drifted from proto/sandbox.c's list "
		    "for %s\n  compiled: %.300s\n  file:     %.300s\n", path,
		    i, daemon_name(p->d), a ? a : "?", b ? b : "?");
		free(a);
		free(b);
		goto out;
	}
	rc = check_loaded(path, have, p);
out:
	json_decref(want);
	json_decref(have);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t i;
	int check = 0, bad = 0;
	const char *dir;

	if (argc == 3 && strcmp(argv[1], "--check") == 0)
		check = 1;
	else if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: gen_seccomp [--check] DIR\n");
		return 2;
	}
	dir = argv[argc - 1];
	for (i = 0; i < NPROFILES; i++) {
		if (check) {
			if (check_profile(dir, &profiles[i]) == -1)
				bad = 1;
			else
				printf("%s/%s: matches the compiled list\n",
				    dir, profiles[i].file);
		} else if (write_profile(dir, &profiles[i]) == -1)
			return 1;
	}
	return bad;
}
