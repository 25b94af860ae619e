/* The guest agent protocol (docs/agent.md), shared by both ends: the host
 * side (src/cli/agent.c) and the guest agent (guest/agent.c, built
 * static into the initramfs: this header must stay plain C, no includes
 * of ours). Frame: "MVA1 TYPE NONCE LEN\n" then LEN payload bytes. */
#ifndef MULTIVM_AGENT_PROTO_H
#define MULTIVM_AGENT_PROTO_H

#define AGENT_PORT_NAME		"multivm.agent"	/* the virtio-serial port */
#define AGENT_MAGIC		"MVA1 "
#define AGENT_MAX_HDR		64		/* header line, newline included */
#define AGENT_MAX_PAYLOAD	65536
#define AGENT_NONCE_MAX		24		/* with its NUL */
/* sscanf format of a header after the magic; %23s is AGENT_NONCE_MAX - 1. */
#define AGENT_HDR_SCAN		"%c %23s %zu"

enum agent_frame {
	AGENT_PING = 'P',	/* host: are you there? */
	AGENT_READY = 'R',	/* guest: answer to a ping */
	AGENT_EXEC = 'X',	/* host: the command for /bin/sh -c */
	AGENT_OUTPUT = 'O',	/* guest: a piece of its output */
	AGENT_EXIT = 'E',	/* guest: its exit status in decimal */
};

#endif
