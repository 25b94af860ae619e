/* The cloud-init seed's documents (supervisor/seed.c), read back as
 * cloud-init reads them (JSON is YAML): hostname, addresses by MAC, the
 * key, the user's user-data instead; and which key files pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "supervisor/seed.h"

static struct config c;
static char err[CFG_ERR_MAX];

static json_t *doc(const char *text, const char *head)
{
	json_t *j;

	assert_non_null(text);
	assert_memory_equal(text, head, strlen(head));
	j = json_loads(text + strlen(head), 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *str(json_t *j, const char *path)
{
	char buf[128], *k, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, "/", &save); k && j; k = strtok_r(NULL, "/", &save))
		j = json_is_array(j) ? json_array_get(j, k[0] - '0') : json_object_get(j, k);
	return json_string_value(j);
}

static void test_docs(void **state)
{
	static const char *const key = "ssh-ed25519 AAAAC3Nza me@host \"quoted\"\n";
	struct seed_docs d;
	json_t *meta, *net, *user;
	char id[64];

	assert_int_equal(config_load_string(&c, "[system]\nname = lab\n[vm r]\nimage = /i\naddress = 10.0.0.1/24\n"
					    "route = 10.9.0.0/16 via 10.0.1.2\nip_forward = yes\npassthrough = user\npassthrough_name = wan\n"
					    "eth1.mac = 02:00:00:00:01:01\neth1.address = 10.0.1.1/30\n"
					    "[vm s]\nimage = /i\naddress = 10.0.0.2/24\n"
					    "[links]\nr = s\nr:eth1 = s:eth1\n", "t.ini", err, sizeof(err)), 0);
	assert_int_equal(seed_docs(&c, &c.vm[0], key, &d), 0);
	meta = doc(d.meta, "");
	/* The instance-id names what the seed says (multivm apply's new
	 * key provisions the disk again): the same docs, the same id. */
	assert_int_equal(strncmp(str(meta, "instance-id"), "multivm-lab-r-", 14), 0);
	assert_int_equal(strlen(str(meta, "instance-id")), 14 + 8);
	snprintf(id, sizeof(id), "%s", str(meta, "instance-id"));
	assert_string_equal(str(meta, "local-hostname"), "r");
	net = doc(d.net, "");
	assert_int_equal(json_integer_value(json_object_get(net, "version")), 2);
	assert_string_equal(str(net, "ethernets/eth0/match/macaddress"), "52:54:00:4d:56:01");
	assert_string_equal(str(net, "ethernets/eth0/set-name"), "eth0");
	assert_string_equal(str(net, "ethernets/eth0/addresses/0"), "10.0.0.1/24");
	assert_true(json_is_false(json_object_get(json_object_get(json_object_get(net, "ethernets"), "eth0"), "dhcp4")));
	assert_string_equal(str(net, "ethernets/eth1/match/macaddress"), "02:00:00:00:01:01");
	assert_string_equal(str(net, "ethernets/eth1/addresses/0"), "10.0.1.1/30");
	/* The route goes where its gateway is. */
	assert_string_equal(str(net, "ethernets/eth1/routes/0/to"), "10.9.0.0/16");
	assert_string_equal(str(net, "ethernets/eth1/routes/0/via"), "10.0.1.2");
	assert_null(json_object_get(json_object_get(json_object_get(net, "ethernets"), "eth0"), "routes"));
	/* The passthrough NIC: the VM's MAC with the top bit of its last
	 * octet flipped, by DHCP. */
	assert_string_equal(str(net, "ethernets/wan/match/macaddress"), "52:54:00:4d:56:81");
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(net, "ethernets"), "wan"), "dhcp4")));
	user = doc(d.user, "#cloud-config\n");
	assert_string_equal(str(user, "hostname"), "r");
	assert_string_equal(str(user, "bootcmd/0/3"), "qemu-guest-agent");
	assert_string_equal(str(user, "ssh_authorized_keys/0"), "ssh-ed25519 AAAAC3Nza me@host \"quoted\"");
	assert_string_equal(str(user, "write_files/0/content"), "net.ipv4.ip_forward = 1\n");
	json_decref(meta);
	json_decref(net);
	json_decref(user);
	seed_free(&d);
	assert_int_equal(seed_docs(&c, &c.vm[0], key, &d), 0);
	meta = doc(d.meta, "");
	assert_string_equal(str(meta, "instance-id"), id);
	json_decref(meta);
	seed_free(&d);
	assert_int_equal(seed_docs(&c, &c.vm[0], "ssh-ed25519 AAAAC3Nzb other@host\n", &d), 0);
	meta = doc(d.meta, "");
	assert_string_not_equal(str(meta, "instance-id"), id);
	json_decref(meta);
	seed_free(&d);

	/* No key, no forwarding; addressing = manual: no addresses. */
	assert_int_equal(seed_docs(&c, &c.vm[1], NULL, &d), 0);
	user = doc(d.user, "#cloud-config\n");
	assert_null(json_object_get(user, "ssh_authorized_keys"));
	assert_null(json_object_get(user, "write_files"));
	json_decref(user);
	seed_free(&d);
	assert_int_equal(config_load_string(&c, "[system]\naddressing = manual\n[vm a]\nimage = /i\n"
					    "user_data = /u.yaml\n", "t.ini", err, sizeof(err)), 0);
	assert_int_equal(seed_docs(&c, &c.vm[0], NULL, &d), 0);
	assert_null(d.user);	/* the user's own */
	net = doc(d.net, "");
	assert_null(json_object_get(json_object_get(json_object_get(net, "ethernets"), "eth0"), "addresses"));
	json_decref(net);
	seed_free(&d);
}

static void test_key_ok(void **state)
{
	assert_true(seed_key_ok("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host\n"));
	assert_true(seed_key_ok("ssh-rsa AAAAB3Nza\r\n"));
	assert_true(seed_key_ok("ecdsa-sha2-nistp256 AAAAE2Vj"));
	assert_false(seed_key_ok(""));
	assert_false(seed_key_ok("\n"));
	assert_false(seed_key_ok("ssh-ed25519\n"));
	assert_false(seed_key_ok("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"));
	assert_false(seed_key_ok("ssh-ed25519 AAAA a\nssh-rsa BBBB b\n"));
	assert_false(seed_key_ok("ssh-ed25519 AAAA\tx\n"));
}

static void test_config_keys(void **state)
{
	assert_int_equal(config_load_string(&c, "[vm a]\nimage = /i\ncloud_init = no\n[vm b]\nimage = /i\n"
					    "ssh_key = k.pub\n", "/d/t.ini", err, sizeof(err)), 0);
	assert_false(c.vm[0].cloud_init);
	assert_true(c.vm[1].cloud_init);
	assert_string_equal(c.vm[1].ssh_key, "/d/k.pub");
#define REFUSE(text, want) do { \
	assert_int_equal(config_load_string(&c, text, "bad.ini", err, sizeof(err)), -1); \
	assert_string_equal(err, want); \
} while (0)
	REFUSE("[vm a]\nssh_key = /k\n", "bad.ini:2: [vm a] ssh_key: only with image = PATH");
	REFUSE("[vm a]\ncloud_init = no\n", "bad.ini:2: [vm a] cloud_init: only with image = PATH");
	REFUSE("[vm a]\nuser_data = /u\n", "bad.ini:2: [vm a] user_data: only with image = PATH");
	REFUSE("[vm a]\nimage = /i\ncloud_init = off\n", "bad.ini:3: [vm a] cloud_init: 'off' is not yes or no");
	REFUSE("[vm a]\nimage = /i\ncloud_init = no\nssh_key = /k\n",
	       "bad.ini:4: [vm a] ssh_key: not with cloud_init = no (it goes in the seed)");
	REFUSE("[vm a]\nimage = /i\nuser_data = /u\ncloud_init = no\n",
	       "bad.ini:3: [vm a] user_data: not with cloud_init = no (it goes in the seed)");
	REFUSE("[vm a]\nimage = /i\nuser_data = /u\nssh_key = /k\n",
	       "bad.ini:4: [vm a] ssh_key: not with user_data (multivm's user-data installs the key; put it in yours)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docs),
		cmocka_unit_test(test_key_ok),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests_name("seed", tests, NULL, NULL);
}
