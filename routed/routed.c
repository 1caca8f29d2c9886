/*
 * onionmesh-routed: the member graph and the forwarding table.
 *
 * routed learns the members from keyd's host records and the live links
 * from linkd, computes the shortest path to every member, and gives
 * linkd a whole forwarding table (which member owns which prefix, and
 * which direct peer to send it to) and tund the subnet routes to put on
 * the TUN device. It touches no socket but its IPC, holds no secret, and
 * everything it knows is resent to it when it restarts.
 */
#include <string.h>
#include <time.h>

#include "proto/log.h"
#include "proto/notify.h"
#include "routed/routed.h"

int
main(int argc, char **argv)
{
	static struct routed r;

	daemon_setup(&r.d, D_ROUTED, argc, argv);
	graph_init(&r.g);
	routed_fib_init(&r.fib);
	routed_routes_init(&r.routes);
	/* Generations go on rising across restarts, so a table from a new
	 * routed never carries the number of one linkd already has. */
	r.fib_gen = r.route_gen = (uint32_t)time(NULL);

	/* routed needs no privilege at all; IPC comes after the drop
	 * because SO_PEERCRED reports the uid a socket had when it
	 * listened or connected, and the peers expect routed's. */
	daemon_drop(&r.d);
	routed_dispatch_start(&r);
	log_info("ready");
	notify_ready(r.d.loop);
	ev_run(r.d.loop, 0);

	notify_stopping();
	log_info("shutting down");
	routed_dispatch_stop(&r);
	routed_routes_free(&r.routes);
	routed_fib_free(&r.fib);
	graph_free(&r.g);
	return 0;
}
