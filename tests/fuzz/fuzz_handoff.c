/* Fuzz target: the node's decoder of link handoff messages
 * (common/handoff.h), on any bytes with 0 to 4 fds (byte 0 says how
 * many; the fds are numbers only: the decoder never touches them). What
 * it takes must be a message the encoder could have sent: a known
 * operation, an index below MV_NODE_LINKS_MAX, a NUL-ended peer name,
 * the fds an add carries and none for a drop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int fds[4] = { 100, 101, 102, 103 };
	struct handoff_msg m;
	char err[120];
	unsigned nfds;

	if (size < 1)
		return 0;
	nfds = data[0] % 5;
	if (handoff_decode(data + 1, size - 1, fds, nfds, &m, err, sizeof(err)) < 0)
		return 0;
	if ((m.op != HANDOFF_ADD && m.op != HANDOFF_DROP) || m.index >= MV_NODE_LINKS_MAX ||
	    !memchr(m.link.peer, 0, sizeof(m.link.peer)) || !m.link.peer[0] ||
	    (m.op == HANDOFF_ADD) != (nfds == HANDOFF_FDS) || (m.op == HANDOFF_DROP && m.link.memfd != -1) ||
	    (m.op == HANDOFF_ADD && m.link.tx_kick != 102) || m.link.side > 1 || m.link.wire)
		abort();
	return 0;
}
