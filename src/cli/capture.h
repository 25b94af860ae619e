/* multivm capture TARGET [-w FILE|-] [-c COUNT] [--snaplen N] [FILTER]:
 * frames of a VM's eth0 or of a link, read from the VMMs' capture rings
 * (common/capring.h), kept if they match FILTER (tcpdump's expressions,
 * compiled by libpcap), and written as pcap or one line each. */
#ifndef MULTIVM_CAPTURE_H
#define MULTIVM_CAPTURE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/capring.h"
#include "common/limits.h"

#define CAPTURE_SNAPLEN_DEFAULT	65535
#define CAPTURE_SNAPLEN_MAX	262144

struct capture_opts {
	const char *state_dir;
	const char *target;
	const char *out;	/* NULL: a line per frame; "-": pcap on stdout */
	uint64_t count;		/* stop after this many frames; 0: no limit */
	unsigned snaplen;
	char *const *filter;	/* the filter's words, joined by spaces as tcpdump does */
	int nfilter;		/* 0: every frame */
};

/* 0 when ended by a signal or COUNT, 1 on failure (unknown target, no
 * system, damaged ring, the system stopped, output not completed), 2 for
 * a filter libpcap does not compile. */
int capture_run(const struct capture_opts *o);

enum capture_kind { CAPTURE_VM, CAPTURE_NIC, CAPTURE_LINK_ONE, CAPTURE_LINK_BOTH };

struct capture_target {
	enum capture_kind kind;
	unsigned a, b;		/* indices into names; b unused for CAPTURE_VM, _NIC */
	char nic_a[MV_IFNAME_MAX], nic_b[MV_IFNAME_MAX];	/* "": eth0 (the segment's) */
};

/* TARGET among the VMs names[0..n): an END, END->END or END-END, where an
 * END is a VM's NAME or NAME:IFNAME (a NIC of it); NAME alone is the VM's
 * eth0, NAME:IFNAME a wire's NIC, and a link between two NICs is a wire
 * (VM names may hold '-': END-END is split where both halves are ends).
 * 0, -ENOENT if it names no VM, NIC or pair of them, -EINVAL if END-END
 * can be split more than one way. */
int capture_parse_target(const char *t, const char *const names[], unsigned n, struct capture_target *out);

/* A compiled filter; on false: every frame passes. */
struct capture_filter {
	bool on;
	struct bpf_program prog;
};

/* Compiles words[0..n) joined by spaces, for Ethernet frames (DLT_EN10MB)
 * of up to snaplen bytes; n == 0 gives no filter. 0, or -1 with libpcap's
 * message in err. */
int capture_filter_compile(struct capture_filter *f, char *const *words, int n, unsigned snaplen,
			   char *err, size_t errlen);
/* Whether frame fr passes f (matched on all of its recorded bytes). */
bool capture_filter_match(const struct capture_filter *f, const struct cap_frame *fr);
void capture_filter_free(struct capture_filter *f);

#endif
