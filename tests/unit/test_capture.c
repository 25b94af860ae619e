/* multivm capture's pieces that need no running system: what a TARGET
 * names, the one-line format, the pcap file libpcap writes for us
 * (read back with libpcap, as tcpdump and Wireshark read it), and the
 * filter libpcap compiles. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/capout.h"
#include "cli/capture.h"

static void test_targets(void **state)
{
	const char *const names[] = { "vm0", "vm1", "a-b", "a", "b", "b-c", "c" };
	struct capture_target t;

	(void)state;
	assert_int_equal(capture_parse_target("vm1", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_VM);
	assert_int_equal(t.a, 1);
	assert_int_equal(capture_parse_target("vm0->vm1", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_LINK_ONE);
	assert_int_equal(t.a, 0);
	assert_int_equal(t.b, 1);
	assert_int_equal(capture_parse_target("vm1-vm0", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_LINK_BOTH);
	assert_int_equal(t.a, 1);
	assert_int_equal(t.b, 0);
	/* A VM's own name wins; a name with '-' splits where both halves are VMs. */
	assert_int_equal(capture_parse_target("a-b", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_VM);
	assert_int_equal(capture_parse_target("a-b-vm0", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_LINK_BOTH);
	assert_int_equal(t.a, 2);
	assert_int_equal(t.b, 0);
	assert_int_equal(capture_parse_target("a-b-c", names, 7, &t), -EINVAL);	/* a + b-c, or a-b + c? */
	assert_int_equal(capture_parse_target("a->b-c", names, 7, &t), 0);
	assert_int_equal(t.b, 5);
	/* Nothing, or not two different VMs. */
	assert_int_equal(capture_parse_target("vm2", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0-vm2", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0-vm0", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0->vm0", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0->", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("->vm0", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("-", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("", names, 7, &t), -ENOENT);
	/* NICs: NAME:IFNAME, alone or at either end of a link. */
	assert_int_equal(capture_parse_target("vm1:eth2", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_NIC);
	assert_int_equal(t.a, 1);
	assert_string_equal(t.nic_a, "eth2");
	assert_int_equal(capture_parse_target("vm0:eth1-vm1:eth1", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_LINK_BOTH);
	assert_string_equal(t.nic_a, "eth1");
	assert_string_equal(t.nic_b, "eth1");
	assert_int_equal(capture_parse_target("a-b:up-link->vm0:e-1", names, 7, &t), 0);
	assert_int_equal(t.kind, CAPTURE_LINK_ONE);
	assert_int_equal(t.a, 2);
	assert_string_equal(t.nic_a, "up-link");
	assert_string_equal(t.nic_b, "e-1");
	assert_string_equal(capture_parse_target("vm0:eth1", names, 7, &t) == 0 ? t.nic_b : "x", "");
	assert_int_equal(capture_parse_target("vm0:", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0:Eth1", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0:1eth", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0:eth1:x", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm0:abcdefghijklmnop", names, 7, &t), -ENOENT);
	assert_int_equal(capture_parse_target("vm9:eth1", names, 7, &t), -ENOENT);
}

static void frame(struct cap_frame *f, uint32_t len)
{
	static const uint8_t hdr[14] = { 0x52, 0x54, 0, 0x4d, 0x56, 2, 0x52, 0x54, 0, 0x4d, 0x56, 1, 0x08, 0x00 };
	uint32_t i;

	memset(f, 0, sizeof(*f));
	memcpy(f->data, hdr, sizeof(hdr));
	for (i = 14; i < len; i++)
		f->data[i] = i;
	f->len = len;
	f->ts_ns = 1700000000123456789ULL;
}

static void test_line(void **state)
{
	static struct cap_frame f;
	char line[256], want[256];
	time_t sec = 1700000000;
	struct tm tm;

	(void)state;
	frame(&f, 98);
	localtime_r(&sec, &tm);
	strftime(want, sizeof(want), "%H:%M:%S.123456 vm0 out 52:54:00:4d:56:01 > 52:54:00:4d:56:02, "
		 "ethertype IPv4 (0x0800), length 98", &tm);
	capout_line(line, sizeof(line), &f, "vm0 out");
	assert_string_equal(line, want);
	f.data[12] = 0x88;
	f.data[13] = 0xb5;
	capout_line(line, sizeof(line), &f, "vm0->vm1");
	assert_non_null(strstr(line, " vm0->vm1 "));
	assert_non_null(strstr(line, "ethertype Unknown (0x88b5), length 98"));
}

/* Frames through capout as pcap, read back by libpcap: snaplen cuts,
 * lengths and timestamps survive. */
static void test_pcap_file(void **state)
{
	static struct cap_frame f;
	char path[] = "/tmp/mvcap.XXXXXX", err[PCAP_ERRBUF_SIZE];
	const u_char *data;
	struct pcap_pkthdr *h;
	struct capout o;
	pcap_t *p;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(capout_open(&o, path, 100, err, sizeof(err)), 0);
	frame(&f, 60);
	capout_frame(&o, &f, "x");
	frame(&f, 1514);
	capout_frame(&o, &f, "x");
	assert_int_equal(o.written, 2);
	assert_int_equal(o.truncated, 1);
	assert_int_equal(capout_close(&o), 0);
	p = pcap_open_offline(path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(p), 100);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->len, 60);
	assert_int_equal(h->caplen, 60);
	assert_int_equal(h->ts.tv_sec, 1700000000);
	assert_int_equal(h->ts.tv_usec, 123456);
	assert_int_equal(data[5], 2);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->len, 1514);
	assert_int_equal(h->caplen, 100);
	assert_int_equal(data[99], 99);
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);	/* end of file */
	pcap_close(p);
	unlink(path);
	/* A path that cannot be created is said, not crashed on. */
	assert_int_equal(capout_open(&o, "/nonexistent/dir/x.pcap", 100, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create /nonexistent/dir/x.pcap"));
}

/* An IPv4 frame of protocol proto (1 ICMP, 6 TCP) from 192.168.1.1 to
 * 192.168.1.2; for TCP, to port dport. 20 bytes past the IP header. */
static void ip_frame(struct cap_frame *f, uint8_t proto, uint16_t dport)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 0, 0, 0,
					192, 168, 1, 1, 192, 168, 1, 2 };

	frame(f, 14 + 20 + 20);
	memcpy(f->data + 14, ip, sizeof(ip));
	f->data[14 + 9] = proto;
	memset(f->data + 34, 0, 20);
	if (proto == 6) {
		f->data[34] = 0xc0;	/* source port 49152 */
		f->data[36] = dport >> 8;
		f->data[37] = dport & 255;
		f->data[34 + 12] = 5 << 4;	/* data offset */
	} else {
		f->data[34] = 8;	/* echo request */
	}
}

/* Compiles the words, matches f, frees. */
static bool passes(char *const *words, int n, const struct cap_frame *f)
{
	struct capture_filter flt;
	char err[512];
	bool m;

	assert_int_equal(capture_filter_compile(&flt, words, n, 65535, err, sizeof(err)), 0);
	m = capture_filter_match(&flt, f);
	capture_filter_free(&flt);
	return m;
}

static void test_filter(void **state)
{
	static struct cap_frame icmp, web, ssh;
	char *icmp_w[] = { "icmp" }, *tcp_w[] = { "tcp" }, *port80[] = { "tcp", "port", "80" };
	char *one[] = { "tcp port 80" }, *src[] = { "src", "host", "192.168.1.1", "and", "not", "tcp" };
	char *bad[] = { "tcp", "port", "eighty" }, *junk[] = { "icmp", "and", "(" };
	struct capture_filter flt;
	char err[512];

	(void)state;
	ip_frame(&icmp, 1, 0);
	ip_frame(&web, 6, 80);
	ip_frame(&ssh, 6, 22);
	assert_true(passes(icmp_w, 1, &icmp));
	assert_false(passes(tcp_w, 1, &icmp));
	assert_true(passes(tcp_w, 1, &web));
	assert_false(passes(icmp_w, 1, &web));
	/* Words are joined as tcpdump joins them. */
	assert_true(passes(port80, 3, &web));
	assert_false(passes(port80, 3, &ssh));
	assert_true(passes(one, 1, &web));
	assert_true(passes(src, 6, &icmp));
	assert_false(passes(src, 6, &ssh));
	/* No words: no filter, everything passes. */
	assert_int_equal(capture_filter_compile(&flt, NULL, 0, 65535, err, sizeof(err)), 0);
	assert_false(flt.on);
	assert_true(capture_filter_match(&flt, &ssh));
	capture_filter_free(&flt);
	/* What libpcap refuses is refused with its message. */
	assert_int_equal(capture_filter_compile(&flt, bad, 3, 65535, err, sizeof(err)), -1);
	assert_false(flt.on);
	assert_non_null(strstr(err, "filter 'tcp port eighty': "));
	assert_true(strlen(err) > strlen("filter 'tcp port eighty': "));
	assert_int_equal(capture_filter_compile(&flt, junk, 3, 65535, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "syntax error"));
	capture_filter_free(&flt);	/* harmless after a refusal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_pcap_file),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
