/*
 * Unit tests for proto/claims.c: each rule on what a record may claim,
 * accepted and refused, and the order that settles clashes: the same
 * set of records must leave the same survivors whatever order they
 * arrive in, or members would disagree about who owns an address.
 *
 * The network: root R, range 10.77.0.0/16; records are built unsigned
 * (the claims rules do not look at signatures, trust_check does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "proto/claims.h"
#include "proto/record.h"

static uint8_t netid[NETID_BYTES];
static uint8_t root_id[MEMBER_ID_BYTES];
static struct claims_net net;

static void
id_of(uint8_t id[MEMBER_ID_BYTES], uint8_t tag)
{
	uint8_t sk[64], seed[32];

	memset(seed, tag, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(id, sk, seed), 0);
}

/* A record of key tag, admitted by `by` (NULL: not admitted). */
static void
make(struct record *r, const char *name, uint8_t tag, const char *ipv4,
    const uint8_t *by)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	id_of(r->id, tag);
	if (ipv4 != NULL)
		assert_int_equal(prefix_parse(&r->ipv4, ipv4), 0);
	ipv6_member_addr(&r->ipv6, netid, r->id);
	r->serial = 1;
	if (by != NULL) {
		r->admitted = 1;
		memcpy(r->admitted_by, by, MEMBER_ID_BYTES);
	}
}

static void
add_subnet(struct record *r, const char *p)
{
	assert_int_equal(prefix_parse(&r->subnets[r->nsubnets], p), 0);
	prefix_mask(&r->subnets[r->nsubnets]);
	r->nsubnets++;
}

static const struct record *set[16];
static size_t nset;

static const struct record *
at(void *arg, size_t i)
{
	(void)arg;
	return set[i];
}

static int
setup(void **state)
{
	struct prefix v4;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	id_of(root_id, 1);
	netid_derive(netid, "test", root_id);
	assert_int_equal(prefix_parse(&v4, "10.77.0.1/16"), 0);
	claims_net_init(&net, &v4, netid, root_id, 2);
	nset = 0;
	return 0;
}

static void
test_ipv4_range(void **state)
{
	static const struct { const char *addr; int want; } cases[] = {
		{"10.77.3.4", CLAIM_OK},
		{"10.78.3.4", CLAIM_IPV4_RANGE},
		{"10.77.0.0", CLAIM_IPV4_RANGE},     /* network address */
		{"10.77.255.255", CLAIM_IPV4_RANGE}, /* broadcast */
		{NULL, CLAIM_OK},                    /* none is fine */
	};
	struct record r;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(&r, "a", 2, cases[i].addr, root_id);
		assert_int_equal(claims_own(&net, &r, why, sizeof(why)),
		    cases[i].want);
	}
	make(&r, "a", 2, "10.78.3.4", root_id);
	(void)claims_own(&net, &r, why, sizeof(why));
	assert_non_null(strstr(why, "10.78.3.4"));
	assert_non_null(strstr(why, "10.77.0.0/16"));
}

static void
test_ipv4_no_range(void **state)
{
	struct claims_net v6only;
	struct record r;

	(void)state;
	/* A member without a range cannot judge one (it routes no IPv4);
	 * the IPv6 rule still holds. */
	claims_net_init(&v6only, NULL, netid, root_id, 2);
	make(&r, "a", 2, "10.77.3.4", root_id);
	assert_int_equal(claims_own(&v6only, &r, NULL, 0), CLAIM_OK);
	r.ipv6.addr[15] ^= 1;
	assert_int_equal(claims_own(&v6only, &r, NULL, 0), CLAIM_IPV6);
	make(&r, "a", 2, NULL, root_id);
	assert_int_equal(claims_own(&v6only, &r, NULL, 0), CLAIM_OK);
}

static void
test_ipv6_derived(void **state)
{
	uint8_t other[MEMBER_ID_BYTES];
	struct record r;
	char why[256];

	(void)state;
	make(&r, "a", 2, "10.77.3.4", root_id);
	id_of(other, 3);
	ipv6_member_addr(&r.ipv6, netid, other); /* another key's */
	assert_int_equal(claims_own(&net, &r, why, sizeof(why)), CLAIM_IPV6);
	assert_non_null(strstr(why, "derived"));
	assert_int_equal(prefix_parse(&r.ipv6, "2001:db8::1"), 0);
	assert_int_equal(claims_own(&net, &r, NULL, 0), CLAIM_IPV6);
}

/* claims_own of a member that claims the one subnet p ("" its own
 * IPv6 /128). */
static int
own_subnet(const char *p, char *why, size_t whylen)
{
	struct record r;

	make(&r, "a", 2, "10.77.3.4", root_id);
	if (p[0] == '\0') {
		r.subnets[0] = r.ipv6;
		r.nsubnets = 1;
	} else
		add_subnet(&r, p);
	r.admitted_subnets[0] = r.subnets[0];
	r.nadmitted_subnets = 1;
	return claims_own(&net, &r, why, whylen);
}

/* Grants the test's callback knows: member tag 3 has 192.168.9.0/24. */
static int
granted(void *arg, const uint8_t id[MEMBER_ID_BYTES],
    const struct prefix *p)
{
	struct prefix g;
	uint8_t three[MEMBER_ID_BYTES];

	(void)arg;
	id_of(three, 3);
	assert_int_equal(prefix_parse(&g, "192.168.9.0/24"), 0);
	return memcmp(id, three, MEMBER_ID_BYTES) == 0 &&
	    prefix_covers(&g, p);
}

/* claims_own of member tag (admitted by by, NULL: pinned) that claims
 * the subnet p, nothing admitted. */
static int
one_subnet(uint8_t tag, const uint8_t *by, const char *p)
{
	struct record r;

	make(&r, "m", tag, NULL, by);
	add_subnet(&r, p);
	return claims_own(&net, &r, NULL, 0);
}

static void
test_subnet_granted(void **state)
{
	struct record r;
	char why[256];

	(void)state;
	/* Admitted with no subnet: announcing one is refused. */
	make(&r, "a", 2, "10.77.3.4", root_id);
	add_subnet(&r, "192.168.7.0/24");
	assert_int_equal(claims_own(&net, &r, why, sizeof(why)),
	    CLAIM_SUBNET_GRANT);
	assert_non_null(strstr(why, "192.168.7.0/24"));
	assert_string_equal(claim_reason_name(CLAIM_SUBNET_GRANT),
	    "subnet_not_granted");
	/* Inside an admitted subnet: taken; wider than it: refused. */
	assert_int_equal(prefix_parse(&r.admitted_subnets[0],
	    "192.168.0.0/16"), 0);
	r.nadmitted_subnets = 1;
	assert_int_equal(claims_own(&net, &r, NULL, 0), CLAIM_OK);
	add_subnet(&r, "192.0.0.0/8");
	assert_int_equal(claims_own(&net, &r, NULL, 0), CLAIM_SUBNET_GRANT);
	/* A default route only when granted as such; the root and a
	 * record pinned by hand need no grant; a grant held for member 3
	 * covers its subnet, not member 2's. */
	assert_int_equal(one_subnet(2, root_id, "0.0.0.0/0"),
	    CLAIM_SUBNET_GRANT);
	assert_int_equal(one_subnet(1, NULL, "192.168.7.0/24"), CLAIM_OK);
	assert_int_equal(one_subnet(2, NULL, "192.168.7.0/24"), CLAIM_OK);
	net.granted = granted;
	assert_int_equal(one_subnet(3, root_id, "192.168.9.128/25"),
	    CLAIM_OK);
	assert_int_equal(one_subnet(2, root_id, "192.168.9.128/25"),
	    CLAIM_SUBNET_GRANT);
	net.granted = NULL;
	/* Granted still must not overlap the network's range. */
	make(&r, "a", 2, "10.77.3.4", root_id);
	add_subnet(&r, "10.77.9.0/24");
	r.admitted_subnets[0] = r.subnets[0];
	r.nadmitted_subnets = 1;
	assert_int_equal(claims_own(&net, &r, NULL, 0), CLAIM_SUBNET_NETWORK);
}

static void
test_subnet_network(void **state)
{
	static const char *const refused[] = {
		"10.77.9.0/24", "10.0.0.0/8", "0.0.0.0/1", "fc00::/7",
		"8000::/1", "",
	};
	char why[256];
	size_t i;

	(void)state;
	assert_int_equal(own_subnet("192.168.7.0/24", NULL, 0), CLAIM_OK);
	assert_int_equal(own_subnet("2001:db8:7::/48", NULL, 0), CLAIM_OK);
	/* A gateway's default routes (taken only from gateway =). */
	assert_int_equal(own_subnet("0.0.0.0/0", NULL, 0), CLAIM_OK);
	assert_int_equal(own_subnet("::/0", NULL, 0), CLAIM_OK);
	/* Inside the range, covering it, and the ULA /48 both ways. */
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(own_subnet(refused[i], NULL, 0),
		    CLAIM_SUBNET_NETWORK);
	assert_int_equal(own_subnet("10.77.9.0/24", why, sizeof(why)),
	    CLAIM_SUBNET_NETWORK);
	assert_non_null(strstr(why, "10.77.9.0/24"));
}

static void
test_clash(void **state)
{
	struct record a, b;
	char why[256];

	(void)state;
	make(&a, "a", 2, "10.77.3.4", root_id);
	make(&b, "b", 3, "10.77.3.5", root_id);
	assert_int_equal(claims_clash(&a, &b, NULL, 0), CLAIM_OK);
	make(&b, "a", 3, "10.77.3.5", root_id);
	assert_int_equal(claims_clash(&a, &b, why, sizeof(why)), CLAIM_NAME);
	make(&b, "b", 3, "10.77.3.4", root_id);
	assert_int_equal(claims_clash(&a, &b, why, sizeof(why)),
	    CLAIM_IPV4_TAKEN);
	assert_non_null(strstr(why, "10.77.3.4"));
	/* One member's old and new record never clash. */
	make(&b, "a", 2, "10.77.3.4", root_id);
	assert_int_equal(claims_clash(&a, &b, NULL, 0), CLAIM_OK);
	/* A subnet over another's address, either way round. */
	make(&b, "b", 3, "10.77.3.5", root_id);
	a.subnets[0] = b.ipv6;
	a.nsubnets = 1;
	assert_int_equal(claims_clash(&a, &b, why, sizeof(why)),
	    CLAIM_SUBNET_MEMBER);
	assert_non_null(strstr(why, "member b"));
	assert_int_equal(claims_clash(&b, &a, NULL, 0), CLAIM_SUBNET_MEMBER);
	/* A gateway's default route covers everyone and clashes with no
	 * one. */
	assert_int_equal(prefix_parse(&a.subnets[0], "0.0.0.0/0"), 0);
	assert_int_equal(claims_clash(&a, &b, NULL, 0), CLAIM_OK);
}

static void
test_order(void **state)
{
	struct record root, byroot, byadmin, other;
	uint8_t admin[MEMBER_ID_BYTES];
	uint8_t tag;

	(void)state;
	id_of(admin, 9);
	make(&root, "root", 1, "10.77.0.1", NULL);
	make(&byroot, "p", 2, "10.77.0.2", root_id);
	make(&byadmin, "q", 3, "10.77.0.3", admin);
	assert_true(claims_precedes(&net, &root, &byroot));
	assert_false(claims_precedes(&net, &byroot, &root));
	assert_true(claims_precedes(&net, &byroot, &byadmin));
	assert_false(claims_precedes(&net, &byadmin, &byroot));
	/* Within a class: the lower id, and the serial does not count. */
	for (tag = 4; ; tag++) {
		make(&other, "r", tag, "10.77.0.4", admin);
		if (memcmp(other.id, byadmin.id, MEMBER_ID_BYTES) < 0)
			break;
	}
	other.serial = 999;
	assert_true(claims_precedes(&net, &other, &byadmin));
	assert_false(claims_precedes(&net, &byadmin, &other));
	assert_false(claims_precedes(&net, &other, &other));
}

/* Take r as keyd does: refused, or in (after dropping what it beats). */
static int
take(const struct record *r)
{
	size_t i, j;

	if (claims_check(&net, r, at, NULL, nset, NULL, 0) != CLAIM_OK)
		return -1;
	for (i = j = 0; i < nset; i++)
		if (!claims_displaces(&net, r, set[i]))
			set[j++] = set[i];
	nset = j;
	set[nset++] = r;
	return 0;
}

static void
test_clash_any_order(void **state)
{
	struct record x, y;
	uint8_t admin[MEMBER_ID_BYTES];
	const struct record *win;

	(void)state;
	id_of(admin, 9);
	/* Two admins' members given the same address: the lower id
	 * stays, whichever came first. */
	make(&x, "x", 5, "10.77.1.1", admin);
	make(&y, "y", 6, "10.77.1.1", admin);
	win = claims_precedes(&net, &x, &y) ? &x : &y;
	nset = 0;
	take(&x);
	take(&y);
	assert_int_equal(nset, 1);
	assert_ptr_equal(set[0], win);
	nset = 0;
	take(&y);
	take(&x);
	assert_int_equal(nset, 1);
	assert_ptr_equal(set[0], win);
	/* The root's admission beats an admin's, whatever the ids. */
	make(&y, "y", 6, "10.77.1.1", root_id);
	nset = 0;
	assert_int_equal(take(&y), 0);
	assert_int_equal(take(&x), -1);
	nset = 0;
	assert_int_equal(take(&x), 0);
	assert_int_equal(take(&y), 0);
	assert_int_equal(nset, 1);
	assert_ptr_equal(set[0], &y);
}

static void
test_bound(void **state)
{
	struct record r[3], *s[3], *t, d, e;
	uint8_t admin[MEMBER_ID_BYTES];
	char why[256];
	int i, j;

	(void)state;
	id_of(admin, 9);
	make(&r[0], "a", 20, "10.77.2.1", admin);
	make(&r[1], "b", 21, "10.77.2.2", admin);
	make(&r[2], "c", 22, "10.77.2.3", admin);
	for (i = 0; i < 3; i++)
		s[i] = &r[i];
	for (i = 0; i < 3; i++)     /* sort by id: s[2] comes last */
		for (j = i + 1; j < 3; j++)
			if (memcmp(s[j]->id, s[i]->id, MEMBER_ID_BYTES) < 0) {
				t = s[i];
				s[i] = s[j];
				s[j] = t;
			}
	/* Bound 2: the last one is refused when the two before it are
	 * held... */
	set[0] = s[0];
	set[1] = s[1];
	nset = 2;
	assert_int_equal(claims_check(&net, s[2], at, NULL, nset, why,
	    sizeof(why)), CLAIM_ADMITTER_FULL);
	assert_non_null(strstr(why, "max_admitted"));
	assert_int_equal(claims_over_bound(&net, admin, at, NULL, nset), -1);
	/* ...and one before it comes in and pushes it out. */
	set[0] = s[2];
	set[1] = s[1];
	nset = 2;
	assert_int_equal(claims_check(&net, s[0], at, NULL, nset, NULL, 0),
	    CLAIM_OK);
	set[nset++] = s[0];
	assert_int_equal(claims_over_bound(&net, admin, at, NULL, nset), 0);
	/* Other admitters' members do not count. */
	make(&d, "d", 23, "10.77.2.4", root_id);
	make(&e, "e", 24, "10.77.2.5", root_id);
	set[0] = &d;
	set[1] = &e;
	nset = 2;
	assert_int_equal(claims_check(&net, s[2], at, NULL, nset, NULL, 0),
	    CLAIM_OK);
}

static void
test_check_clash_refused(void **state)
{
	static struct record held, r;
	char why[256];

	(void)state;
	set[0] = &held;
	nset = 1;
	/* The root's record holds the name and the address. */
	make(&held, "root", 1, "10.77.0.1", NULL);
	make(&r, "root", 2, "10.77.0.2", root_id);
	assert_int_equal(claims_check(&net, &r, at, NULL, nset, why,
	    sizeof(why)), CLAIM_NAME);
	make(&r, "evil", 2, "10.77.0.1", root_id);
	assert_int_equal(claims_check(&net, &r, at, NULL, nset, why,
	    sizeof(why)), CLAIM_IPV4_TAKEN);
	make(&r, "fine", 2, "10.77.0.2", root_id);
	assert_int_equal(claims_check(&net, &r, at, NULL, nset, NULL, 0),
	    CLAIM_OK);
	assert_string_equal(claim_reason_name(CLAIM_IPV4_TAKEN),
	    "ipv4_taken");
	assert_string_equal(claim_reason_name(99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ipv4_range, setup),
		cmocka_unit_test_setup(test_ipv4_no_range, setup),
		cmocka_unit_test_setup(test_ipv6_derived, setup),
		cmocka_unit_test_setup(test_subnet_network, setup),
		cmocka_unit_test_setup(test_subnet_granted, setup),
		cmocka_unit_test_setup(test_clash, setup),
		cmocka_unit_test_setup(test_order, setup),
		cmocka_unit_test_setup(test_clash_any_order, setup),
		cmocka_unit_test_setup(test_bound, setup),
		cmocka_unit_test_setup(test_check_clash_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
