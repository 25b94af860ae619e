/* Fuzz target: the node's decoder of link handoff messages
 * (common/handoff.h), on any bytes with 0 to 5 fds (byte 0 says how
 * many; the fds are numbers only: the decoder never touches them). What
 * it takes must be a message the encoder could have sent: a known
 * operation, an index below MV_NODE_LINKS_MAX, a NUL-ended peer name,
 * the fds an add carries (a NIC's add one more, its listening socket)
 * and none for a drop; a NIC's: a NUL-ended name not eth0, an MTU in
 * range on an add. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int fds[5] = { 100, 101, 102, 103, 104 };
	struct handoff_msg m;
	char err[120];
	unsigned nfds;
	bool nic, add;

	if (size < 1)
		return 0;
	nfds = data[0] % 6;
	if (handoff_decode(data + 1, size - 1, fds, nfds, &m, err, sizeof(err)) < 0)
		return 0;
	nic = m.op == HANDOFF_ADD_NIC || m.op == HANDOFF_DROP_NIC;
	add = m.op == HANDOFF_ADD || m.op == HANDOFF_ADD_NIC;
	if ((m.op != HANDOFF_ADD && m.op != HANDOFF_DROP && !nic) || m.index >= MV_NODE_LINKS_MAX ||
	    !memchr(m.link.peer, 0, sizeof(m.link.peer)) || !m.link.peer[0] ||
	    nfds != (m.op == HANDOFF_ADD ? HANDOFF_FDS : m.op == HANDOFF_ADD_NIC ? HANDOFF_NIC_FDS : 0) ||
	    (!add && m.link.memfd != -1) || (add && m.link.tx_kick != 102) ||
	    (m.op == HANDOFF_ADD_NIC) != (m.listen_fd == 103) || m.link.side > 1 || m.link.wire != nic)
		abort();
	if (nic && (!memchr(m.nic.name, 0, sizeof(m.nic.name)) || !m.nic.name[0] || !strcmp(m.nic.name, "eth0") ||
		    !memchr(m.link.peer_nic, 0, sizeof(m.link.peer_nic)) ||
		    (add && (m.nic.mtu < MV_MTU_MIN || m.nic.mtu > MV_MTU_MAX))))
		abort();
	return 0;
}
