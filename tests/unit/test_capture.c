/* multivm capture's pieces that need no running system: what a TARGET
 * names, the one-line format, and the pcap file libpcap writes for us
 * (read back with libpcap, as tcpdump and Wireshark read it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_pcap_file),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
