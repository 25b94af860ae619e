/* A VM's image before anything starts (supervisor/image.c): the format
 * from the header, qemu-img info's facts, and every refusal with its
 * FILE:LINE, on real files (qemu-img makes the qcow2 ones). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "supervisor/image.h"

static struct config c;
static char err[CFG_ERR_MAX], dir[64], ini[128];
static struct runas self = { .drop = false, .name = "me" };

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mvimage.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
		return -1;
	snprintf(ini, sizeof(ini), "%s/t.ini", dir);
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf %s", dir);
	return 0;
}

/* Loads "[vm a]\n" + body as DIR/t.ini and checks its images as ra. */
static int check_as(const struct runas *ra, const char *body)
{
	char text[512];

	snprintf(text, sizeof(text), "[vm a]\n%s", body);
	assert_int_equal(config_load_string(&c, text, ini, err, sizeof(err)), 0);
	return image_check_all(&c, ra, err, sizeof(err));
}

/* The refusal, with "DIR/" for %s. */
static void refused(const char *body, const char *want_fmt)
{
	char want[CFG_ERR_MAX];

	snprintf(want, sizeof(want), want_fmt, dir, dir, dir, dir);
	if (check_as(&self, body) == 0 || strcmp(err, want) != 0)
		fail_msg("config:\n%s\nwant: %s\ngot: %s", body, want, err);
}

static void test_magic(void **state)
{
	uint8_t h[IMAGE_HDR_LEN] = { 0 };
	const char *what = NULL;

	assert_int_equal(image_magic(h, sizeof(h), &what), IMAGE_RAW);
	memcpy(h, "QFI\xfb\0\0\0\3", 8);
	assert_int_equal(image_magic(h, sizeof(h), &what), IMAGE_QCOW2);
	assert_int_equal(image_magic(h, 3, &what), IMAGE_RAW);	/* too short to say */
	memcpy(h, "QFI\xfb\0\0\0\1", 8);
	assert_int_equal(image_magic(h, sizeof(h), &what), -1);
	assert_string_equal(what, "qcow");
	memcpy(h, "KDMV", 4);
	assert_int_equal(image_magic(h, sizeof(h), &what), -1);
	assert_string_equal(what, "vmdk");
	memset(h, 0, sizeof(h));
	memcpy(h + 64, "\x7f\x10\xda\xbe", 4);
	assert_int_equal(image_magic(h, sizeof(h), &what), -1);
	assert_string_equal(what, "vdi");
}

static void test_qcow2_facts(void **state)
{
	struct qcow2_facts f;

	assert_int_equal(image_qcow2_facts("{\"virtual-size\": 2097152, \"format\": \"qcow2\"}", &f), 0);
	assert_int_equal(f.virtual_size, 2097152);
	assert_string_equal(f.backing, "");
	assert_false(f.data_file || f.encrypted || f.corrupt);
	assert_int_equal(image_qcow2_facts("{\"virtual-size\": 1, \"backing-filename\": \"/etc/shadow\", "
					   "\"backing-filename-format\": \"raw\", \"encrypted\": true, "
					   "\"format-specific\": {\"type\": \"qcow2\", \"data\": {\"data-file\": "
					   "\"/dev/sda\", \"corrupt\": true}}}", &f), 0);
	assert_string_equal(f.backing, "/etc/shadow");
	assert_string_equal(f.backing_fmt, "raw");
	assert_true(f.data_file && f.encrypted && f.corrupt);
	assert_int_equal(image_qcow2_facts("not json", &f), -1);
	assert_int_equal(image_qcow2_facts("{\"virtual-size\": -1}", &f), -1);
	assert_int_equal(image_qcow2_facts("[]", &f), -1);
}

static void test_accepted(void **state)
{
	sh("qemu-img create -q -f qcow2 %s/d.qcow2 8M", dir);
	sh("truncate -s 2M %s/d.img", dir);
	sh("printf 'kernel' >%s/k", dir);
	assert_int_equal(check_as(&self, "image = d.qcow2\n"), 0);
	assert_int_equal(c.vm[0].image_format, IMAGE_QCOW2);
	assert_int_equal(c.vm[0].image_size, 8 << 20);
	/* The real path: the one the overlay names. */
	sh("ln -sf d.qcow2 %s/link.qcow2", dir);
	assert_int_equal(check_as(&self, "image = link.qcow2\n"), 0);
	assert_string_equal(strrchr(c.vm[0].image, '/'), "/d.qcow2");
	assert_int_equal(check_as(&self, "image = d.img\nkernel = k\n"), 0);
	assert_int_equal(c.vm[0].image_format, IMAGE_RAW);
	assert_int_equal(c.vm[0].image_size, 2 << 20);
	/* Said raw: a qcow2 file is then the guest's raw disk. */
	sh("qemu-img create -q -f qcow2 -o preallocation=full %s/full.qcow2 2M", dir);
	assert_int_equal(check_as(&self, "image = full.qcow2\nimage_format = raw\n"), 0);
	assert_int_equal(c.vm[0].image_format, IMAGE_RAW);
	/* A backing file, allowed, with its format recorded. */
	sh("qemu-img create -q -f qcow2 -F qcow2 -b %s/d.qcow2 %s/top.qcow2", dir, dir);
	if (check_as(&self, "image = top.qcow2\nimage_backing = yes\n") != 0)
		fail_msg("%s", err);
}

static void test_refused(void **state)
{
	sh("qemu-img create -q -f qcow2 %s/d.qcow2 8M", dir);
	sh("qemu-img create -q -f qcow2 -F qcow2 -b %s/d.qcow2 %s/top.qcow2", dir, dir);
	sh("qemu-img create -q -f qcow2 %s/tiny.qcow2 64K", dir);
	sh("qemu-img create -q -f vmdk %s/d.vmdk 2M", dir);
	sh("printf 'hello\\n' >%s/text.qcow2", dir);
	sh("truncate -s 4096 %s/small.img; truncate -s 1049000 %s/odd.img; : >%s/empty", dir, dir, dir);
	sh("mkdir -p %s/adir", dir);

	refused("image = missing.qcow2\n", "%s/t.ini:2: [vm a] image: %s/missing.qcow2: no such file");
	refused("image = adir\n", "%s/t.ini:2: [vm a] image: %s/adir: is a directory");
	refused("image = /dev/null\n", "%s/t.ini:2: [vm a] image: /dev/null: not a regular file");
	refused("image = empty\n", "%s/t.ini:2: [vm a] image: %s/empty: empty");
	refused("image = text.qcow2\n", "%s/t.ini:2: [vm a] image: %s/text.qcow2: named .qcow2 but has no qcow2 "
		"header (say image_format = raw if it is a raw disk)");
	refused("image = d.img\nimage_format = qcow2\n",
		"%s/t.ini:3: [vm a] image_format: %s/d.img: not a qcow2 image (no qcow2 header)");
	refused("image = small.img\n", "%s/t.ini:2: [vm a] image: %s/small.img: too small for a disk (4096 bytes; "
		"at least 1048576)");
	refused("image = odd.img\n", "%s/t.ini:2: [vm a] image: %s/odd.img: a raw disk of 1049000 bytes, not a "
		"whole number of 512-byte sectors");
	refused("image = tiny.qcow2\n", "%s/t.ini:2: [vm a] image: %s/tiny.qcow2: too small for a disk (65536 "
		"bytes; at least 1048576)");
	refused("image = d.vmdk\n", "%s/t.ini:2: [vm a] image: %s/d.vmdk: a vmdk image, not qcow2 or raw "
		"(convert it: qemu-img convert -O qcow2)");
	refused("\nimage = top.qcow2\n", "%s/t.ini:3: [vm a] image: %s/top.qcow2: names a backing file of its own "
		"(%s/d.qcow2): refused, QEMU would read that host file too; set image_backing = yes if you trust "
		"it, or flatten it (qemu-img convert -O qcow2)");
	/* qemu-img records a backing format always now; older ones did not:
	 * the header extension that holds it (0xe2792aca) renamed away. */
	sh("python3 -c \"import sys; p = sys.argv[1]; b = open(p, 'rb').read(); "
	   "open(p, 'wb').write(b.replace(bytes.fromhex('e2792aca'), bytes.fromhex('6d760001'), 1))\" "
	   "%s/top.qcow2", dir);
	refused("image = top.qcow2\nimage_backing = yes\n", "%s/t.ini:3: [vm a] image_backing: %s/top.qcow2: its "
		"backing file %s/d.qcow2 has no format recorded (QEMU would probe it): qemu-img rebase -u -F "
		"FORMAT -b %s/d.qcow2");
	refused("image = d.qcow2\nkernel = nokernel\n", "%s/t.ini:3: [vm a] kernel: %s/nokernel: no such file");
	refused("kernel = /dev/null\n", "%s/t.ini:2: [vm a] kernel: /dev/null: not a regular file");
}

/* A file only root may read is refused for the user QEMU runs as. */
static void test_unreadable(void **state)
{
	struct runas nobody = { .drop = true, .uid = 65534, .gid = 65534, .name = "nobody" };
	char want[CFG_ERR_MAX];

	if (geteuid() != 0)
		skip();
	sh("truncate -s 2M %s/secret.img; chmod 600 %s/secret.img", dir, dir);
	assert_int_equal(check_as(&self, "image = secret.img\n"), 0);
	assert_int_equal(check_as(&nobody, "image = secret.img\n"), -1);
	snprintf(want, sizeof(want), "%s/t.ini:2: [vm a] image: %s/secret.img: not readable by user nobody, whom "
		 "QEMU runs as", dir, dir);
	assert_string_equal(err, want);
	sh("chmod 644 %s/secret.img", dir);
	assert_int_equal(check_as(&nobody, "image = secret.img\n"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic),
		cmocka_unit_test(test_qcow2_facts),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests_name("image", tests, setup, teardown);
}
