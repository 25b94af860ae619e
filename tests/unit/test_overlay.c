/* An image VM's own files (supervisor/overlay.c), made one VM at a time
 * as `multivm apply` makes them for a VM it adds, and undone as a failed
 * apply undoes them; on real files (qemu-img, cloud-localds, OVMF). */
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
#include "supervisor/overlay.h"

static struct config c;
static char err[CFG_ERR_MAX], dir[64], ini[128];
static const struct runas self = { .drop = false, .name = "me" };

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
	snprintf(dir, sizeof(dir), "/tmp/mvoverlay.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ini, sizeof(ini), "%s/t.ini", dir);
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf %s", dir);
	return 0;
}

static bool has(const char *file)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

/* vm0 without an image, vm1 with one (and body's keys), checked as run
 * and apply check them. */
static void load(const char *body)
{
	char text[1024];

	sh("rm -f %s/vm1.* && truncate -s 1M %s/d.img", dir, dir);
	snprintf(text, sizeof(text), "[vm vm0]\n[vm vm1]\nmemory = 256M\nimage = %s/d.img\n%s", dir, body);
	assert_int_equal(config_load_string(&c, text, ini, err, sizeof(err)), 0);
	if (image_check_all(&c, &self, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_added_vm(void **state)
{
	bool fresh = false;

	load("firmware = uefi\n");
	assert_int_equal(overlay_make_vm(&c, dir, 0, &fresh, err, sizeof(err)), 0);
	assert_false(has("vm0.overlay.qcow2"));	/* no image, no files */
	if (overlay_make_vm(&c, dir, 1, &fresh, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(fresh);
	assert_true(has("vm1.overlay.qcow2"));
	assert_true(has("vm1.seed.img"));
	assert_true(has("vm1.vars.fd"));
	assert_false(has("vm1.persist.qcow2"));
	/* The overlay lies over the image, its format stated. */
	sh("qemu-img info -U --output=json %s/vm1.overlay.qcow2 | grep -q '\"backing-filename-format\": \"raw\"'", dir);
	overlay_unmake_vm(&c, dir, 1, fresh);
	assert_false(has("vm1.overlay.qcow2"));
	assert_false(has("vm1.seed.img"));
	assert_false(has("vm1.vars.fd"));
}

/* persist = yes: a failed apply removes a persist overlay it made, never
 * one an earlier run left (that one is used again). */
static void test_added_persist(void **state)
{
	bool fresh = false;

	load("cloud_init = no\npersist = yes\n");
	assert_int_equal(overlay_make_vm(&c, dir, 1, &fresh, err, sizeof(err)), 0);
	assert_true(fresh);
	assert_true(has("vm1.persist.qcow2"));
	assert_false(has("vm1.seed.img"));
	overlay_unmake_vm(&c, dir, 1, fresh);
	assert_false(has("vm1.persist.qcow2"));

	assert_int_equal(overlay_make_vm(&c, dir, 1, &fresh, err, sizeof(err)), 0);
	assert_int_equal(overlay_make_vm(&c, dir, 1, &fresh, err, sizeof(err)), 0);
	assert_false(fresh);
	overlay_unmake_vm(&c, dir, 1, fresh);
	assert_true(has("vm1.persist.qcow2"));
}

/* A kept overlay over another image is refused, naming it, and kept. */
static void test_persist_elsewhere(void **state)
{
	bool fresh = true;
	char want[CFG_ERR_MAX];

	load("cloud_init = no\npersist = yes\n");
	sh("truncate -s 1M %s/other.img && qemu-img create -q -f qcow2 -F raw -b %s/other.img %s/vm1.persist.qcow2",
	   dir, dir, dir);
	assert_int_equal(overlay_make_vm(&c, dir, 1, &fresh, err, sizeof(err)), -1);
	assert_false(fresh);
	snprintf(want, sizeof(want), "%s:6: [vm vm1] persist: %s/vm1.persist.qcow2 lies over %s/other.img (raw), "
		 "not %s/d.img (raw); remove it to start afresh", ini, dir, dir, dir);
	assert_string_equal(err, want);
	overlay_unmake_vm(&c, dir, 1, fresh);
	assert_true(has("vm1.persist.qcow2"));
}

/* The backing file qemu-img says overlay file of dir lies over. */
static bool over(const char *file, const char *image)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "qemu-img info -U --output=json %s/%s | grep -q '\"backing-filename\": \"%s/%s\"'",
		 dir, file, dir, image);
	return system(cmd) == 0;
}

/* Two configs of vm1 (images d.img, e.img: body's keys each), loaded and
 * settled as the supervisor settles them. */
static struct config a, b;

static void load2(const char *body_a, const char *body_b)
{
	char text[1024];

	sh("rm -f %s/vm1.* && truncate -s 1M %s/d.img %s/e.img", dir, dir, dir);
	snprintf(text, sizeof(text), "[vm vm0]\n[vm vm1]\nimage = %s/d.img\n%s", dir, body_a);
	assert_int_equal(config_load_string(&a, text, ini, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "[vm vm0]\n[vm vm1]\nimage = %s/e.img\n%s", dir, body_b);
	assert_int_equal(config_load_string(&b, text, ini, err, sizeof(err)), 0);
	if (image_check_all(&a, &self, err, sizeof(err)) < 0 || image_check_all(&b, &self, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* apply changes a running VM's image: a new overlay over the new image,
 * the old one set aside; back (an undo): the old one put back, the new
 * one set aside. The seed is made again each time. */
static void test_image_change(void **state)
{
	bool fresh;

	load2("", "");
	assert_int_equal(overlay_make_vm(&a, dir, 1, &fresh, err, sizeof(err)), 0);
	sh("qemu-io -c 'write -P 0x5a 0 4k' %s/vm1.overlay.qcow2 >/dev/null", dir);	/* the guest wrote */
	if (overlay_change_vm(&a, &b, dir, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(over("vm1.overlay.qcow2", "e.img"));
	assert_true(over("vm1.overlay.old.qcow2", "d.img"));
	assert_true(has("vm1.seed.img"));
	assert_false(has("vm1.overlay.qcow2.new") || has("vm1.seed.img.new"));
	if (overlay_change_vm(&b, &a, dir, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(over("vm1.overlay.qcow2", "d.img"));
	assert_true(over("vm1.overlay.old.qcow2", "e.img"));
	sh("qemu-io -c 'read -P 0x5a 0 4k' %s/vm1.overlay.qcow2 | grep -q 'read 4096/4096'", dir);	/* its writes back */
}

/* persist = yes: the kept overlay set aside as NAME.persist.old.qcow2;
 * persist turned on alone: the running overlay renamed (the guest keeps
 * its disk), refused if an earlier run's is there. */
static void test_persist_change(void **state)
{
	bool fresh;

	load2("cloud_init = no\npersist = yes\nfirmware = uefi\n", "cloud_init = no\npersist = yes\nfirmware = uefi\n");
	assert_int_equal(overlay_make_vm(&a, dir, 1, &fresh, err, sizeof(err)), 0);
	if (overlay_change_vm(&a, &b, dir, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(over("vm1.persist.qcow2", "e.img"));
	assert_true(over("vm1.persist.old.qcow2", "d.img"));
	assert_true(has("vm1.persist.vars.fd"));
	assert_false(has("vm1.overlay.qcow2") || has("vm1.seed.img"));

	load2("cloud_init = no\n", "cloud_init = no\npersist = yes\n");
	memcpy(b.vm[1].image, a.vm[1].image, sizeof(a.vm[1].image));	/* the same image: persist alone */
	assert_int_equal(overlay_make_vm(&a, dir, 1, &fresh, err, sizeof(err)), 0);
	if (overlay_change_vm(&a, &b, dir, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(over("vm1.persist.qcow2", "d.img"));
	assert_false(has("vm1.overlay.qcow2"));
	if (overlay_change_vm(&b, &a, dir, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(over("vm1.overlay.qcow2", "d.img"));
	assert_false(has("vm1.persist.qcow2"));
	sh("cp %s/vm1.overlay.qcow2 %s/vm1.persist.qcow2", dir, dir);	/* an earlier run's */
	assert_int_equal(overlay_change_vm(&a, &b, dir, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vm1.persist.qcow2 is there (an earlier run's)"));
	assert_true(has("vm1.overlay.qcow2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_vm),
		cmocka_unit_test(test_added_persist),
		cmocka_unit_test(test_persist_elsewhere),
		cmocka_unit_test(test_image_change),
		cmocka_unit_test(test_persist_change),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
