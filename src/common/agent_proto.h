/* The guest agent channel (docs/agent.md): qemu-guest-agent's protocol
 * (QGA: JSON over a virtio-serial port), the subset multivm uses. Shared
 * by the host's client (src/cli/agent.c) and the built-in guest's agent
 * (guest/agent.c, built static into the initramfs: this header must stay
 * plain C, no includes of ours). */
#ifndef MULTIVM_AGENT_PROTO_H
#define MULTIVM_AGENT_PROTO_H

/* The virtio-serial port's name: the one qemu-guest-agent opens
 * (/dev/virtio-ports/org.qemu.guest_agent.0), in every guest. */
#define AGENT_PORT_NAME		"org.qemu.guest_agent.0"

/* guest-sync-delimited: the host sends this byte before the request (it
 * resets the agent's parser: a half-sent request of an earlier client is
 * dropped) and the agent puts it before the reply (the host skips
 * everything up to it: replies meant for an earlier client). */
#define AGENT_DELIM		0xff

/* A command (the argument of /bin/sh -c) is at most this long. */
#define AGENT_MAX_CMD		65536
/* A request the built-in agent takes: a command, JSON-escaped, fits. */
#define AGENT_MAX_REQUEST	(6 * AGENT_MAX_CMD + 4096)
/* The built-in agent captures at most this much of each of a command's
 * stdout and stderr (the rest is read and dropped: out-truncated). */
#define AGENT_MAX_OUTPUT	(4 << 20)
/* The host takes a reply of at most this many bytes: two streams of the
 * 16 MiB qemu-guest-agent captures, in base64, and the rest of the JSON. */
#define AGENT_MAX_REPLY		(48 << 20)

#endif
