/* Writing captured frames: pcap through libpcap, or text. See capout.h. */
#include "cli/capout.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mac.h"

static bool is_live(FILE *f)
{
	struct stat st;

	return fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode);
}

int capout_open(struct capout *o, const char *path, unsigned snaplen, char *err, size_t errlen)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->snaplen = snaplen;
	if (!path) {
		o->f = stdout;
		o->live = is_live(stdout);
		return 0;
	}
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
		o->f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!o->f) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	o->live = is_live(o->f);
	o->pcap = pcap_open_dead(DLT_EN10MB, snaplen);
	o->dump = o->pcap ? pcap_dump_fopen(o->pcap, o->f) : NULL;
	if (!o->dump) {
		snprintf(err, errlen, "cannot start a pcap file: %s", o->pcap ? pcap_geterr(o->pcap) : "out of memory");
		if (o->pcap)
			pcap_close(o->pcap);
		if (o->f != stdout)
			fclose(o->f);
		return -1;
	}
	return 0;
}

static const char *ethertype_name(unsigned t)
{
	switch (t) {
	case 0x0800: return "IPv4";
	case 0x0806: return "ARP";
	case 0x86dd: return "IPv6";
	case 0x8100: return "802.1Q";
	case 0x88cc: return "LLDP";
	default: return "Unknown";
	}
}

void capout_line(char *buf, size_t len, const struct cap_frame *f, const char *label)
{
	const uint8_t *d = f->data, *s = f->data + ETH_ALEN;
	time_t sec = f->ts_ns / 1000000000ULL;
	unsigned type = (unsigned)f->data[12] << 8 | f->data[13];
	char when[16], src[MAC_STR_LEN], dst[MAC_STR_LEN];
	struct tm tm;

	if (!localtime_r(&sec, &tm) || !strftime(when, sizeof(when), "%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "??:??:??");
	snprintf(buf, len, "%s.%06u %s %s > %s, ethertype %s (0x%04x), length %u", when,
		 (unsigned)(f->ts_ns % 1000000000ULL / 1000), label, mac_format(src, s), mac_format(dst, d),
		 ethertype_name(type), type, f->len);
}

void capout_frame(struct capout *o, const struct cap_frame *f, const char *label)
{
	struct pcap_pkthdr h;
	char line[256];

	o->written++;
	if (!o->dump) {
		capout_line(line, sizeof(line), f, label);
		fprintf(o->f, "%s\n", line);
		return;
	}
	h.ts.tv_sec = f->ts_ns / 1000000000ULL;
	h.ts.tv_usec = f->ts_ns % 1000000000ULL / 1000;
	h.len = f->len;
	h.caplen = f->len < o->snaplen ? f->len : o->snaplen;
	if (h.caplen < h.len)
		o->truncated++;
	pcap_dump((u_char *)o->dump, &h, f->data);
}

int capout_flush(struct capout *o)
{
	errno = 0;
	if ((o->dump ? pcap_dump_flush(o->dump) : fflush(o->f)) == 0 && !ferror(o->f))
		return 0;
	return errno ? -errno : -EIO;
}

int capout_close(struct capout *o)
{
	int rc = capout_flush(o);

	if (o->dump) {
		pcap_dump_close(o->dump);	/* closes o->f */
		pcap_close(o->pcap);
		o->dump = NULL;
	}
	return rc;
}
