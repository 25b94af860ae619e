/* Where `multivm capture` writes frames: a pcap file through libpcap
 * (DLT_EN10MB, microsecond timestamps: what tcpdump and Wireshark read),
 * or one line per frame on standard output. */
#ifndef MULTIVM_CAPOUT_H
#define MULTIVM_CAPOUT_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/capring.h"

struct capout {
	pcap_t *pcap;
	pcap_dumper_t *dump;	/* NULL: text lines */
	FILE *f;		/* what is written to */
	bool live;		/* a pipe or terminal: flushed after every batch */
	unsigned snaplen;
	uint64_t written;	/* frames handed to the output */
	uint64_t truncated;	/* of those, cut to snaplen */
};

/* path NULL: text lines on stdout; "-": pcap on stdout; else a pcap file
 * created 0600 (it holds guest traffic). 0, or -1 with err set. */
int capout_open(struct capout *o, const char *path, unsigned snaplen, char *err, size_t errlen);

/* One frame; label names where it was seen ("vm0 out", "vm0->vm1"). */
void capout_frame(struct capout *o, const struct cap_frame *f, const char *label);

/* Pushes what is buffered to the output. 0 or -errno (EINTR: a signal
 * came while the output was not taking anything). */
int capout_flush(struct capout *o);

/* Flushes and closes. 0 or -errno. */
int capout_close(struct capout *o);

/* The text line of a frame, like tcpdump -e's:
 * 12:34:56.789012 vm0 out 52:54:00:4d:56:01 > 52:54:00:4d:56:02, ethertype IPv4 (0x0800), length 98 */
void capout_line(char *buf, size_t len, const struct cap_frame *f, const char *label);

#endif
