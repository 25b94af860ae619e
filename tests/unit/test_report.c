/* The status line parser and the printers of `multivm status` and `stats`:
 * text, JSON and Prometheus from one snapshot, with hostile names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"
#include "cli/snapshot.h"

static struct snapshot s;
static struct vm_stats raw[2];
static struct linkctl ctl[2];
static char *out;

/* What printer wrote for s, in out (freed by the next call). */
static const char *print(int (*printer)(FILE *, const struct snapshot *))
{
	size_t len;
	FILE *f;

	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(printer(f, &s), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void name_vm(unsigned i, const char *line)
{
	assert_int_equal(status_parse_line(line, &s.status[i]), 0);
	memcpy(s.vm[i].name, status_name(&s.status[i]), MV_NAME_MAX);
}

/* vm "a" (counters 1, 2, 3, ... ; a link to b) and vm "b", whose stats file
 * could not be read when valid_b is false. */
static void two_vms(bool valid_b)
{
	const struct vm_stats *p[2] = { &raw[0], valid_b ? &raw[1] : NULL };
	int r;

	memset(&s, 0, sizeof(s));
	memset(raw, 0, sizeof(raw));
	s.nvms = 2;
	name_vm(0, "a state=up vmm=10 qemu=0 engine=tcg console=/run/mv/a.console.log\n");
	name_vm(1, "b state=restarting vmm=0 qemu=0 engine=tcg console=/run/mv/b.console.log\n");
	raw[0] = (struct vm_stats){ .magic = STATS_MAGIC, .version = STATS_VERSION, .nlinks = 1,
				    .vmm_starts = 2, .guest_tx_frames = 3, .guest_tx_bytes = 180,
				    .guest_rx_frames = 4, .guest_rx_bytes = 240, .vu_bad_messages = 5, .vu_peer_refused = 7,
				    .vq_errors = 6, .vu_connected = 1, .tx_offload_frames = 21, .tx_tso_frames = 22,
				    .rx_tso_frames = 23, .seg_frames = 24, .seg_segments = 25, .csum_completed = 26,
				    .vmm_busy_ns = 27, .vmm_yields = 28, .vmm_sleeps = 29 };
	for (r = 0; r < DROP__MAX; r++)
		raw[0].drop[r] = 10 + r;
	raw[0].link[0] = (struct link_stats){ .peer = "b", .tx_frames = 7, .tx_bytes = 420, .kicks_sent = 8,
					      .errors = 1, .up = 1, .drop = { [DROP_QUEUE_FULL] = 9 } };
	raw[1] = (struct vm_stats){ .magic = STATS_MAGIC, .version = STATS_VERSION, .nlinks = 1, .vmm_starts = 1 };
	raw[1].link[0] = (struct link_stats){ .peer = "a", .rx_frames = 6, .rx_bytes = 360, .errors = 2, .up = 1 };
	snapshot_fill(&s, p);
}

/* The control files of two_vms' a and b: a->b (in b's file) loses 1 %
 * at 100 Mbit/s, b->a (in a's) is down with 20 ms +- 2 ms normal. */
static void two_ctls(void)
{
	const struct linkctl *p[2] = { &ctl[0], &ctl[1] };

	memset(ctl, 0, sizeof(ctl));
	ctl[0].nlinks = ctl[1].nlinks = 1;
	strcpy(ctl[0].link[0].peer, "b");
	ctl[0].link[0].imp = (struct link_imp){ .delay_us = 20000, .jitter_us = 2000, .dist = LINKCTL_NORMAL,
						.down = 1 };
	strcpy(ctl[1].link[0].peer, "a");
	ctl[1].link[0].imp = (struct link_imp){ .loss_ppm = 10000, .rate_bps = 100000000 };
	snapshot_fill_ctl(&s, p);
}

static const char ab_settings[] = "state=up delay_us=0 jitter_us=0 distribution=uniform loss_ppm=10000 "
				  "loss_correlation_ppm=0 corrupt_ppm=0 duplicate_ppm=0 rate_bps=100000000 seed=0";
static const char ba_settings[] = "state=down delay_us=20000 jitter_us=2000 distribution=normal loss_ppm=0 "
				  "loss_correlation_ppm=0 corrupt_ppm=0 duplicate_ppm=0 rate_bps=0 seed=0";

static void test_status_text_and_json(void **state)
{
	json_t *j, *vm;

	memset(&s, 0, sizeof(s));
	s.nvms = 2;
	name_vm(0, "vm0 state=up vmm=12 qemu=0 engine=tcg pid=007 big=99999999999999999999 note=a\"b\\c name=x");
	name_vm(1, "vm1 state=degraded reason=qemu exited");
	assert_string_equal(print(report_status_text),
			    "vm0 state=up vmm=12 qemu=0 engine=tcg pid=007 big=99999999999999999999 note=a\"b\\c name=x\n"
			    "vm1 state=degraded reason=qemu exited\n");
	j = json_loads(print(report_status_json), 0, NULL);
	assert_non_null(j);
	vm = json_array_get(json_object_get(j, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(vm, "name")), "vm0");	/* not name=x */
	assert_int_equal(json_integer_value(json_object_get(vm, "vmm")), 12);
	assert_true(json_is_integer(json_object_get(vm, "qemu")));
	assert_string_equal(json_string_value(json_object_get(vm, "pid")), "007");
	assert_string_equal(json_string_value(json_object_get(vm, "big")), "99999999999999999999");
	assert_string_equal(json_string_value(json_object_get(vm, "note")), "a\"b\\c");
	vm = json_array_get(json_object_get(j, "vms"), 1);
	assert_string_equal(json_string_value(json_object_get(vm, "reason")), "qemu exited");
	json_decref(j);
	/* Not UTF-8 (a state directory in another encoding): still a document. */
	name_vm(1, "vm1 console=/tmp/\xe9t\xe9/vm1.console.log");
	j = json_loads(print(report_status_json), 0, NULL);
	assert_non_null(j);
	json_decref(j);
}

static const char stats_text[] =
	"vm a tx_frames=3 tx_bytes=180 rx_frames=4 rx_bytes=240 drop_queue_full=10 drop_no_link=11 "
	"drop_spoofed=12 drop_malformed=13 drop_link_down=14 drop_disabled=15 drop_not_remote=16 drop_bad_header=17 drop_bad_vni=18 drop_bad_length=19 drop_send_error=20 drop_impaired=21 vq_errors=6 vu_bad_messages=5 "
	"vu_accept_errors=0 vu_peer_refused=7 vu_connected=1 vmm_starts=2 tx_offload_frames=21 tx_tso_frames=22 rx_tso_frames=23 seg_frames=24 "
	"seg_segments=25 csum_completed=26 vmm_busy_ns=27 vmm_yields=28 vmm_sleeps=29 remote_down=0 handoff_refused=0\n"
	"vm b tx_frames=0 tx_bytes=0 rx_frames=0 rx_bytes=0 drop_queue_full=0 drop_no_link=0 drop_spoofed=0 "
	"drop_malformed=0 drop_link_down=0 drop_disabled=0 drop_not_remote=0 drop_bad_header=0 drop_bad_vni=0 drop_bad_length=0 drop_send_error=0 drop_impaired=0 vq_errors=0 vu_bad_messages=0 vu_accept_errors=0 vu_peer_refused=0 vu_connected=0 vmm_starts=1 "
	"tx_offload_frames=0 tx_tso_frames=0 rx_tso_frames=0 seg_frames=0 seg_segments=0 csum_completed=0 "
	"vmm_busy_ns=0 vmm_yields=0 vmm_sleeps=0 remote_down=0 handoff_refused=0\n"
	"link a->b frames=7 bytes=420 delivered=6 delivered_bytes=360 drop_queue_full=9 drop_no_link=0 "
	"drop_spoofed=0 drop_malformed=0 drop_link_down=0 drop_disabled=0 drop_not_remote=0 drop_bad_header=0 drop_bad_vni=0 drop_bad_length=0 drop_send_error=0 drop_impaired=0 kicks=8 tx_wait_ms=0 errors=3 up=1 held=0 duplicated=0 corrupted=0\n"
	"link b->a frames=0 bytes=0 delivered=0 delivered_bytes=0 drop_queue_full=0 drop_no_link=0 "
	"drop_spoofed=0 drop_malformed=0 drop_link_down=0 drop_disabled=0 drop_not_remote=0 drop_bad_header=0 drop_bad_vni=0 drop_bad_length=0 drop_send_error=0 drop_impaired=0 kicks=0 tx_wait_ms=0 errors=3 up=1 held=0 duplicated=0 corrupted=0\n";

static void test_stats_text(void **state)
{
	two_vms(true);
	assert_string_equal(print(report_stats_text), stats_text);
}

/* Every key=value of the text is the same number (or word) in the JSON. */
static void test_stats_json_matches_text(void **state)
{
	json_t *j, *o;
	char *text, *line, *save, *word, *save2;
	int checked = 0, nlink = 0;

	two_vms(true);
	two_ctls();
	text = strdup(print(report_stats_text));
	j = json_loads(print(report_stats_json), 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "vms")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "links")), 2);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool link = strncmp(line, "link ", 5) == 0;

		o = json_array_get(json_object_get(j, link ? "links" : "vms"), link ? nlink++ : line[3] - 'a');
		assert_true(json_is_true(json_object_get(o, "valid")) || link);
		strtok_r(line, " ", &save2);
		strtok_r(NULL, " ", &save2);
		while ((word = strtok_r(NULL, " ", &save2))) {
			char *eq = strchr(word, '=');
			json_t *v;

			*eq = 0;
			v = strncmp(word, "drop_", 5) == 0 ? json_object_get(json_object_get(o, "drops"), word + 5)
							   : json_object_get(o, word);
			if (!strcmp(word, "state") || !strcmp(word, "distribution"))
				assert_string_equal(json_string_value(v), eq + 1);
			else {
				assert_true(json_is_integer(v));
				assert_int_equal(json_integer_value(v), strtoll(eq + 1, NULL, 10));
			}
			checked++;
		}
		/* No field of the JSON is missing from the text. */
		assert_int_equal(json_object_size(o), link ? LINK__N + LSET__N + 1 + 2 : VM__N + 1 + 2);
	}
	assert_int_equal(checked, 2 * (VM__N + DROP__MAX) + 2 * (LINK__N + DROP__MAX + LSET__N));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "links"), 0), "to")),
			    "b");
	json_decref(j);
	free(text);
}

/* A damaged file can say 2^64-1: every format shows the same capped count. */
static void test_counters_capped(void **state)
{
	const struct vm_stats *p[2] = { &raw[0], &raw[1] };
	json_t *j;

	two_vms(true);
	raw[0].guest_tx_frames = UINT64_MAX;
	raw[0].link[0].errors = INT64_MAX;
	snapshot_fill(&s, p);
	assert_non_null(strstr(print(report_stats_text), "vm a tx_frames=9223372036854775807 "));
	assert_non_null(strstr(print(report_stats_text), " errors=9223372036854775807 "));
	assert_non_null(strstr(print(report_stats_prom), "multivm_vm_tx_frames_total{vm=\"a\"} 9223372036854775807\n"));
	j = json_loads(print(report_stats_json), 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "vms"), 0), "tx_frames")),
			 INT64_MAX);
	json_decref(j);
}

/* b's counters could not be read: zeros, and no link from it. */
static void test_invalid_vm(void **state)
{
	json_t *j;

	two_vms(false);
	assert_false(s.vm[1].valid);
	assert_int_equal(s.nlinks, 1);
	assert_non_null(strstr(print(report_stats_text), "\nvm b tx_frames=0 "));
	assert_non_null(strstr(out, "\nlink a->b frames=7 bytes=420 delivered=0 delivered_bytes=0 "));
	assert_non_null(strstr(out, " errors=1 up=1 held=0 duplicated=0 corrupted=0\n"));
	j = json_loads(print(report_stats_json), 0, NULL);
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(j, "vms"), 1), "valid")));
	json_decref(j);
}

/* Writes dir/name with len bytes of p. */
static void put_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A stats file of another version (a system started by another multivm)
 * is refused and its version named, not read in this layout. */
static void test_other_stats_version(void **state)
{
	char dir[] = "/tmp/test_report.XXXXXX", cmd[64];
	static struct vm_stats st;
	const char status[] = "old state=up\nnew state=up\n";

	assert_non_null(mkdtemp(dir));
	put_file(dir, "status", status, strlen(status));
	st = (struct vm_stats){ .magic = STATS_MAGIC, .version = 3, .guest_tx_frames = 5 };
	put_file(dir, "old.stats", &st, 11304);	/* version 3's size */
	st.version = STATS_VERSION;
	put_file(dir, "new.stats", &st, sizeof(st));
	assert_int_equal(snapshot_read(dir, &s), 0);
	assert_int_equal(s.nvms, 2);
	assert_false(s.vm[0].valid);
	assert_int_equal(s.vm[0].version, 3);
	assert_int_equal(s.vm[0].c[VM_TX_FRAMES], 0);
	assert_true(s.vm[1].valid);
	assert_int_equal(s.vm[1].version, 0);
	assert_int_equal(s.vm[1].c[VM_TX_FRAMES], 5);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static const char prom_text[] =
	"# HELP multivm_vm_tx_frames_total Frames taken from the guest's TX queue.\n"
	"# TYPE multivm_vm_tx_frames_total counter\n"
	"multivm_vm_tx_frames_total{vm=\"a\"} 3\n"
	"# HELP multivm_vm_tx_bytes_total Bytes taken from the guest's TX queue.\n"
	"# TYPE multivm_vm_tx_bytes_total counter\n"
	"multivm_vm_tx_bytes_total{vm=\"a\"} 180\n"
	"# HELP multivm_vm_rx_frames_total Frames put in the guest's RX queue.\n"
	"# TYPE multivm_vm_rx_frames_total counter\n"
	"multivm_vm_rx_frames_total{vm=\"a\"} 4\n"
	"# HELP multivm_vm_rx_bytes_total Bytes put in the guest's RX queue.\n"
	"# TYPE multivm_vm_rx_bytes_total counter\n"
	"multivm_vm_rx_bytes_total{vm=\"a\"} 240\n"
	"# HELP multivm_vm_vq_errors_total Guest queues stopped as malformed.\n"
	"# TYPE multivm_vm_vq_errors_total counter\n"
	"multivm_vm_vq_errors_total{vm=\"a\"} 6\n"
	"# HELP multivm_vm_vu_bad_messages_total Malformed vhost-user messages from the frontend.\n"
	"# TYPE multivm_vm_vu_bad_messages_total counter\n"
	"multivm_vm_vu_bad_messages_total{vm=\"a\"} 5\n"
	"# HELP multivm_vm_vu_accept_errors_total Times the VMM could not accept a frontend (out of fds or memory).\n"
	"# TYPE multivm_vm_vu_accept_errors_total counter\n"
	"multivm_vm_vu_accept_errors_total{vm=\"a\"} 0\n"
	"# HELP multivm_vm_vu_peer_refused_total Connections to the VM's sockets from a process not its frontend, refused.\n"
	"# TYPE multivm_vm_vu_peer_refused_total counter\n"
	"multivm_vm_vu_peer_refused_total{vm=\"a\"} 7\n"
	"# HELP multivm_vm_vu_connected 1 while a vhost-user frontend is connected.\n"
	"# TYPE multivm_vm_vu_connected gauge\n"
	"multivm_vm_vu_connected{vm=\"a\"} 1\n"
	"# HELP multivm_vm_vmm_starts_total Times a VMM attached to these counters.\n"
	"# TYPE multivm_vm_vmm_starts_total counter\n"
	"multivm_vm_vmm_starts_total{vm=\"a\"} 2\n"
	"# HELP multivm_vm_tx_offload_frames_total Guest TX frames with checksum or segmentation offload metadata.\n"
	"# TYPE multivm_vm_tx_offload_frames_total counter\n"
	"multivm_vm_tx_offload_frames_total{vm=\"a\"} 21\n"
	"# HELP multivm_vm_tx_tso_frames_total TSO frames put whole on a link.\n"
	"# TYPE multivm_vm_tx_tso_frames_total counter\n"
	"multivm_vm_tx_tso_frames_total{vm=\"a\"} 22\n"
	"# HELP multivm_vm_rx_tso_frames_total TSO frames passed whole to the guest.\n"
	"# TYPE multivm_vm_rx_tso_frames_total counter\n"
	"multivm_vm_rx_tso_frames_total{vm=\"a\"} 23\n"
	"# HELP multivm_vm_seg_frames_total TSO frames the VMM segmented in software for the guest.\n"
	"# TYPE multivm_vm_seg_frames_total counter\n"
	"multivm_vm_seg_frames_total{vm=\"a\"} 24\n"
	"# HELP multivm_vm_seg_segments_total Segments the VMM cut from TSO frames and delivered.\n"
	"# TYPE multivm_vm_seg_segments_total counter\n"
	"multivm_vm_seg_segments_total{vm=\"a\"} 25\n"
	"# HELP multivm_vm_csum_completed_total Frames whose partial checksum the VMM completed in software.\n"
	"# TYPE multivm_vm_csum_completed_total counter\n"
	"multivm_vm_csum_completed_total{vm=\"a\"} 26\n"
	"# HELP multivm_vm_vmm_busy_nanoseconds_total Wall time the VMM spent working, outside its waits and yields.\n"
	"# TYPE multivm_vm_vmm_busy_nanoseconds_total counter\n"
	"multivm_vm_vmm_busy_nanoseconds_total{vm=\"a\"} 27\n"
	"# HELP multivm_vm_vmm_yields_total Times the VMM let other tasks on its core run first while frames streamed.\n"
	"# TYPE multivm_vm_vmm_yields_total counter\n"
	"multivm_vm_vmm_yields_total{vm=\"a\"} 28\n"
	"# HELP multivm_vm_vmm_sleeps_total Times the VMM ran out of work and waited for a doorbell, message or timer.\n"
	"# TYPE multivm_vm_vmm_sleeps_total counter\n"
	"multivm_vm_vmm_sleeps_total{vm=\"a\"} 29\n"
	"# HELP multivm_vm_remote_down_total A tunnel: times its remote multivm tunnel fell silent (no heartbeat for 2 s).\n"
	"# TYPE multivm_vm_remote_down_total counter\n"
	"multivm_vm_remote_down_total{vm=\"a\"} 0\n"
	"# HELP multivm_vm_handoff_refused_total Links handed to the running VMM (multivm apply) that it refused.\n"
	"# TYPE multivm_vm_handoff_refused_total counter\n"
	"multivm_vm_handoff_refused_total{vm=\"a\"} 0\n"
	"# HELP multivm_vm_drops_total Frames the VM's VMM dropped, by reason.\n"
	"# TYPE multivm_vm_drops_total counter\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"queue_full\"} 10\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"no_link\"} 11\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"spoofed\"} 12\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"malformed\"} 13\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"link_down\"} 14\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"disabled\"} 15\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"not_remote\"} 16\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"bad_header\"} 17\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"bad_vni\"} 18\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"bad_length\"} 19\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"send_error\"} 20\n"
	"multivm_vm_drops_total{vm=\"a\",reason=\"impaired\"} 21\n"
	"# HELP multivm_vm_counters_valid 1 when the VM's counters could be read.\n"
	"# TYPE multivm_vm_counters_valid gauge\n"
	"multivm_vm_counters_valid{vm=\"a\"} 1\n"
	"multivm_vm_counters_valid{vm=\"b\"} 0\n"
	"# HELP multivm_link_tx_frames_total Frames the sending VMM put on the link.\n"
	"# TYPE multivm_link_tx_frames_total counter\n"
	"multivm_link_tx_frames_total{from=\"a\",to=\"b\"} 7\n"
	"# HELP multivm_link_tx_bytes_total Bytes the sending VMM put on the link.\n"
	"# TYPE multivm_link_tx_bytes_total counter\n"
	"multivm_link_tx_bytes_total{from=\"a\",to=\"b\"} 420\n"
	"# HELP multivm_link_delivered_frames_total Frames the receiving VMM took off the link for its guest.\n"
	"# TYPE multivm_link_delivered_frames_total counter\n"
	"# HELP multivm_link_delivered_bytes_total Bytes the receiving VMM took off the link for its guest.\n"
	"# TYPE multivm_link_delivered_bytes_total counter\n"
	"# HELP multivm_link_kicks_total Doorbells the sending VMM rang.\n"
	"# TYPE multivm_link_kicks_total counter\n"
	"multivm_link_kicks_total{from=\"a\",to=\"b\"} 8\n"
	"# HELP multivm_link_tx_wait_milliseconds_total Milliseconds the sending guest's frames waited for room on the link.\n"
	"# TYPE multivm_link_tx_wait_milliseconds_total counter\n"
	"multivm_link_tx_wait_milliseconds_total{from=\"a\",to=\"b\"} 0\n"
	"# HELP multivm_link_errors_total Protocol violations seen on the link by either end.\n"
	"# TYPE multivm_link_errors_total counter\n"
	"# HELP multivm_link_up 1 while the link's queues run at both ends.\n"
	"# TYPE multivm_link_up gauge\n"
	"multivm_link_up{from=\"a\",to=\"b\"} 1\n"
	"# HELP multivm_link_held_frames Frames on the link waiting out an impairment's delay or rate.\n"
	"# TYPE multivm_link_held_frames gauge\n"
	"# HELP multivm_link_duplicated_frames_total Frames an impaired link delivered twice.\n"
	"# TYPE multivm_link_duplicated_frames_total counter\n"
	"# HELP multivm_link_corrupted_frames_total Frames an impaired link delivered with a bit flipped.\n"
	"# TYPE multivm_link_corrupted_frames_total counter\n"
	"# HELP multivm_link_drops_total Frames for the link that the sending VMM dropped, by reason.\n"
	"# TYPE multivm_link_drops_total counter\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"queue_full\"} 9\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"no_link\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"spoofed\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"malformed\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"link_down\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"disabled\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"not_remote\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"bad_header\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"bad_vni\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"bad_length\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"send_error\"} 0\n"
	"multivm_link_drops_total{from=\"a\",to=\"b\",reason=\"impaired\"} 0\n"
	/* no settings: no control files read */
	"# HELP multivm_link_state The link direction's state: down drops every frame (multivm link down).\n"
	"# TYPE multivm_link_state gauge\n"
	"# HELP multivm_link_delay_microseconds Delay every frame waits on the link direction.\n"
	"# TYPE multivm_link_delay_microseconds gauge\n"
	"# HELP multivm_link_jitter_microseconds Jitter added to the delay (uniform: up to this; normal: this sigma).\n"
	"# TYPE multivm_link_jitter_microseconds gauge\n"
	"# HELP multivm_link_jitter_distribution The jitter's distribution.\n"
	"# TYPE multivm_link_jitter_distribution gauge\n"
	"# HELP multivm_link_loss_ppm Frames lost at random, in parts per million.\n"
	"# TYPE multivm_link_loss_ppm gauge\n"
	"# HELP multivm_link_loss_correlation_ppm Chance a frame repeats the last one's loss draw, in parts per million.\n"
	"# TYPE multivm_link_loss_correlation_ppm gauge\n"
	"# HELP multivm_link_corrupt_ppm Frames delivered with a bit flipped, in parts per million.\n"
	"# TYPE multivm_link_corrupt_ppm gauge\n"
	"# HELP multivm_link_duplicate_ppm Frames delivered twice, in parts per million.\n"
	"# TYPE multivm_link_duplicate_ppm gauge\n"
	"# HELP multivm_link_rate_bits_per_second The link direction's shaper rate; 0: none.\n"
	"# TYPE multivm_link_rate_bits_per_second gauge\n"
	"# HELP multivm_link_seed The seed its random draws restart from at each change; 0: none.\n"
	"# TYPE multivm_link_seed gauge\n";

/* b's counters could not be read: its series (and the link's delivered
 * and errors, which need them) are left out, not shown as 0. */
static void test_prometheus(void **state)
{
	two_vms(false);
	assert_string_equal(print(report_stats_prom), prom_text);
	two_vms(true);
	assert_non_null(strstr(print(report_stats_prom),
			       "multivm_link_delivered_frames_total{from=\"a\",to=\"b\"} 6\n"));
	assert_non_null(strstr(out, "multivm_link_errors_total{from=\"a\",to=\"b\"} 3\n"));
	assert_non_null(strstr(out, "multivm_vm_tx_frames_total{vm=\"b\"} 0\n"));
}

static void test_prometheus_escaping(void **state)
{
	two_vms(true);
	strcpy(s.vm[0].name, "x\"y\\z\nw");
	print(report_stats_prom);
	assert_non_null(strstr(out, "multivm_vm_tx_frames_total{vm=\"x\\\"y\\\\z\\nw\"} 3\n"));
	assert_non_null(strstr(out, "multivm_link_up{from=\"x\\\"y\\\\z\\nw\",to=\"b\"} 1\n"));
	assert_null(strstr(out, "z\nw"));	/* no raw newline inside a sample */
}

static int teardown(void **state)
{
	free(out);
	out = NULL;
	return 0;
}

/* A segment link and a wire join a and b: each end's records are paired
 * by their NICs, and a wire's link is named by both ends' NICs. */
static void test_wire_links(void **state)
{
	const struct vm_stats *p[2] = { &raw[0], &raw[1] };
	const char *txt;
	json_t *j, *l;

	two_vms(true);
	raw[0].nlinks = raw[1].nlinks = 2;
	raw[0].link[1] = (struct link_stats){ .peer = "b", .nic = "eth1", .peer_nic = "eth2", .tx_frames = 70, .up = 1 };
	raw[1].link[1] = (struct link_stats){ .peer = "a", .nic = "eth2", .peer_nic = "eth1", .rx_frames = 69, .up = 1 };
	snapshot_fill(&s, p);
	assert_int_equal(s.nlinks, 4);
	txt = print(report_stats_text);
	assert_non_null(strstr(txt, "link a->b frames=7 bytes=420 delivered=6 "));
	assert_non_null(strstr(txt, "link a:eth1->b:eth2 frames=70 bytes=0 delivered=69 "));
	assert_non_null(strstr(txt, "link b:eth2->a:eth1 frames=0 "));
	j = json_loads(print(report_stats_json), 0, NULL);
	assert_non_null(j);
	l = json_array_get(json_object_get(j, "links"), 1);
	assert_string_equal(json_string_value(json_object_get(l, "from_nic")), "eth1");
	assert_string_equal(json_string_value(json_object_get(l, "to_nic")), "eth2");
	assert_int_equal(json_integer_value(json_object_get(l, "delivered")), 69);
	assert_null(json_object_get(json_array_get(json_object_get(j, "links"), 0), "from_nic"));
	json_decref(j);
	txt = print(report_stats_prom);
	assert_non_null(strstr(txt, "multivm_link_delivered_frames_total{from=\"a\",to=\"b\",from_nic=\"eth1\",to_nic=\"eth2\"} 69\n"));
	assert_non_null(strstr(txt, "multivm_link_delivered_frames_total{from=\"a\",to=\"b\"} 6\n"));

	/* Each direction's settings are the receiving NIC's entry. */
	two_ctls();
	ctl[0].nlinks = ctl[1].nlinks = 2;
	ctl[0].link[1] = (struct linkctl_entry){ .peer = "b", .nic = "eth1", .peer_nic = "eth2",
						 .imp = { .delay_us = 5000 } };
	ctl[1].link[1] = (struct linkctl_entry){ .peer = "a", .nic = "eth2", .peer_nic = "eth1",
						 .imp = { .duplicate_ppm = 7 } };
	snapshot_fill_ctl(&s, (const struct linkctl *const[]){ &ctl[0], &ctl[1] });
	assert_int_equal(s.ndirs, 4);
	txt = print(report_status_text);
	assert_non_null(strstr(txt, "\nlink a:eth1->b:eth2 state=up delay_us=0 jitter_us=0 distribution=uniform "
				    "loss_ppm=0 loss_correlation_ppm=0 corrupt_ppm=0 duplicate_ppm=7 rate_bps=0 seed=0\n"));
	assert_non_null(strstr(txt, "\nlink b:eth2->a:eth1 state=up delay_us=5000 "));
	txt = print(report_stats_text);
	assert_non_null(strstr(txt, " corrupted=0 state=up delay_us=5000 "));
	assert_non_null(strstr(print(report_stats_prom),
			       "multivm_link_duplicate_ppm{from=\"a\",to=\"b\",from_nic=\"eth1\",to_nic=\"eth2\"} 7\n"));
	j = json_loads(print(report_status_json), 0, NULL);
	l = json_array_get(json_object_get(j, "links"), 1);
	assert_string_equal(json_string_value(json_object_get(l, "from_nic")), "eth1");
	assert_int_equal(json_integer_value(json_object_get(l, "duplicate_ppm")), 7);
	json_decref(j);
}

/* Each direction's settings from the receiving node's file: after the
 * counters in stats, as lines of their own in status, the same values in
 * every format. */
static void test_link_settings(void **state)
{
	char want[1024];
	json_t *j, *l;
	const char *txt;

	two_vms(true);
	two_ctls();
	assert_int_equal(s.ndirs, 2);
	snprintf(want, sizeof(want), "a state=up vmm=10 qemu=0 engine=tcg console=/run/mv/a.console.log\n"
		 "b state=restarting vmm=0 qemu=0 engine=tcg console=/run/mv/b.console.log\n"
		 "link a->b %s\nlink b->a %s\n", ab_settings, ba_settings);
	assert_string_equal(print(report_status_text), want);
	snprintf(want, sizeof(want), " corrupted=0 %s\n", ab_settings);
	txt = print(report_stats_text);
	assert_non_null(strstr(txt, want));
	snprintf(want, sizeof(want), " corrupted=0 %s\n", ba_settings);
	assert_non_null(strstr(txt, want));

	j = json_loads(print(report_status_json), 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "links")), 2);
	l = json_array_get(json_object_get(j, "links"), 1);
	assert_string_equal(json_string_value(json_object_get(l, "from")), "b");
	assert_string_equal(json_string_value(json_object_get(l, "to")), "a");
	assert_string_equal(json_string_value(json_object_get(l, "state")), "down");
	assert_string_equal(json_string_value(json_object_get(l, "distribution")), "normal");
	assert_int_equal(json_integer_value(json_object_get(l, "delay_us")), 20000);
	assert_int_equal(json_object_size(l), 2 + LSET__N);
	json_decref(j);

	txt = print(report_stats_prom);
	assert_non_null(strstr(txt, "# TYPE multivm_link_state gauge\n"
				    "multivm_link_state{from=\"a\",to=\"b\",state=\"up\"} 1\n"
				    "multivm_link_state{from=\"a\",to=\"b\",state=\"down\"} 0\n"
				    "multivm_link_state{from=\"b\",to=\"a\",state=\"up\"} 0\n"
				    "multivm_link_state{from=\"b\",to=\"a\",state=\"down\"} 1\n"));
	assert_non_null(strstr(txt, "multivm_link_delay_microseconds{from=\"b\",to=\"a\"} 20000\n"));
	assert_non_null(strstr(txt, "multivm_link_jitter_distribution{from=\"b\",to=\"a\",distribution=\"normal\"} 1\n"));
	assert_non_null(strstr(txt, "multivm_link_loss_ppm{from=\"a\",to=\"b\"} 10000\n"));
	assert_non_null(strstr(txt, "multivm_link_rate_bits_per_second{from=\"a\",to=\"b\"} 100000000\n"));
}

/* Files that do not pair up: a direction whose receiver's file was not
 * read, or names nobody, or NICs that do not match, is left out (no
 * settings shown for its link), never guessed. */
static void test_link_settings_unpaired(void **state)
{
	const struct linkctl *p[2] = { &ctl[0], NULL };

	two_vms(true);
	two_ctls();
	snapshot_fill_ctl(&s, p);	/* b's file not read: a->b unknown, b->a is in a's */
	assert_int_equal(s.ndirs, 1);
	assert_int_equal(s.link[0].dir, -1);
	assert_int_equal(s.link[1].dir, 0);
	assert_non_null(strstr(print(report_stats_text), " corrupted=0\nlink b->a "));
	assert_null(strstr(print(report_stats_prom), "multivm_link_state{from=\"a\""));

	p[1] = &ctl[1];
	memset(ctl[0].link[0].peer, 'b', sizeof(ctl[0].link[0].peer));	/* no NUL */
	memset(ctl[1].link[0].nic, 'x', sizeof(ctl[1].link[0].nic));	/* no NUL */
	snapshot_fill_ctl(&s, p);
	assert_int_equal(s.ndirs, 0);
	strcpy(ctl[1].link[0].nic, "eth1");	/* a wire's: not the segment link's settings */
	snapshot_fill_ctl(&s, p);
	assert_int_equal(s.ndirs, 1);
	assert_int_equal(s.link[0].dir, -1);
	assert_null(strstr(print(report_stats_text), "state="));
	ctl[1].link[0].nic[0] = 0;
	ctl[1].nlinks = UINT32_MAX;	/* a lie: only the entries there are */
	snapshot_fill_ctl(&s, p);
	assert_int_equal(s.ndirs, 1);
	ctl[1].link[0].peer[0] = 0;
	snapshot_fill_ctl(&s, p);
	assert_int_equal(s.ndirs, 0);
	assert_string_equal(print(report_status_text),
			    "a state=up vmm=10 qemu=0 engine=tcg console=/run/mv/a.console.log\n"
			    "b state=restarting vmm=0 qemu=0 engine=tcg console=/run/mv/b.console.log\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_links),
		cmocka_unit_test(test_status_text_and_json),
		cmocka_unit_test(test_stats_text),
		cmocka_unit_test(test_stats_json_matches_text),
		cmocka_unit_test(test_counters_capped),
		cmocka_unit_test(test_invalid_vm),
		cmocka_unit_test(test_other_stats_version),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_escaping),
		cmocka_unit_test(test_link_settings),
		cmocka_unit_test(test_link_settings_unpaired),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
