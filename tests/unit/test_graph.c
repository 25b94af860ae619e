/* multivm graph: the dot text of a config with a segment, wires and
 * tunnels; names quoted so that none can end a string or the graph. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/graph.h"
#include "config/config.h"

static const char lab[] =
	"[system]\n"
	"name = lab\n"
	"[vm r1]\n"
	"address = 192.168.1.1/24\n"
	"passthrough = user\n"
	"passthrough_name = ext0\n"
	"eth1.address = 10.0.1.1/30\n"
	"[vm r2]\n"
	"address = 192.168.1.2/24\n"
	"eth1.address = 10.0.1.2/30\n"
	"[vm r3]\n"
	"eth1.address = 10.0.2.2/30\n"
	"[tunnel up]\n"
	"local = 0.0.0.0\n"
	"remote = 203.0.113.7\n"
	"vni = 42\n"
	"[tunnel far]\n"
	"local = 0.0.0.0\n"
	"remote = 203.0.113.8\n"
	"vni = 43\n"
	"port = 4790\n"
	"[links]\n"
	"r1 = r2 far\n"
	"r1:eth1 = r2:eth1\n"
	"r2:eth2 = r3:eth1\n"
	"r3:eth2 = up\n";

/* graph_dot's text for c (to free). */
static char *dot(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(graph_dot(f, c), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void has_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n\t%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_lab(void **state)
{
	static struct config c;
	char err[CFG_ERR_MAX];
	char *text;

	(void)state;
	assert_int_equal(config_load_string(&c, lab, "lab.ini", err, sizeof(err)), 0);
	text = dot(&c);
	assert_int_equal(strncmp(text, "graph \"lab\" {\n", 14), 0);
	/* VMs: eth0 and its address when on the segment, the passthrough NIC. */
	has_line(text, "\"r1\" [shape=box, label=\"r1\\neth0 192.168.1.1/24\\next0: user\"];");
	has_line(text, "\"r2\" [shape=box, label=\"r2\\neth0 192.168.1.2/24\"];");
	has_line(text, "\"up\" [shape=cds, label=\"up\\nVXLAN 42 to 203.0.113.7:4789\"];");
	has_line(text, "\"far\" [shape=cds, label=\"far\\nVXLAN 43 to 203.0.113.8:4790\"];");
	/* Segment links: a thin edge per pair. */
	has_line(text, "\"r1\" -- \"r2\" [color=gray40];");
	has_line(text, "\"r1\" -- \"far\" [color=gray40];");
	/* Wires: each end's NIC and address; nothing at a tunnel's end. */
	has_line(text, "\"r1\" -- \"r2\" [penwidth=2, taillabel=\"eth1\\n10.0.1.1/30\", "
		 "headlabel=\"eth1\\n10.0.1.2/30\"];");
	has_line(text, "\"r2\" -- \"r3\" [penwidth=2, taillabel=\"eth2\", "
		 "headlabel=\"eth1\\n10.0.2.2/30\"];");
	if (strstr(text, "\"r3\" -- \"up\" [penwidth=2, taillabel=\"eth2\", headlabel=\"\"];") == NULL &&
	    strstr(text, "\"up\" -- \"r3\" [penwidth=2, taillabel=\"\", headlabel=\"eth2\"];") == NULL)
		fail_msg("no wire r3:eth2 = up in:\n%s", text);
	assert_string_equal(text + strlen(text) - 2, "}\n");
	free(text);
}

/* Whatever a name holds, it stays inside its quotes. */
static void test_quoting(void **state)
{
	static struct config c;
	char err[CFG_ERR_MAX];
	char *text;

	(void)state;
	assert_int_equal(config_load_string(&c, lab, "lab.ini", err, sizeof(err)), 0);
	strcpy(c.name, "a\"b");
	strcpy(c.vm[0].name, "x\"; y\\");
	strcpy(c.vm[1].nic[0].name, "e\"\n\x01");
	text = dot(&c);
	assert_int_equal(strncmp(text, "graph \"a\\\"b\" {\n", 15), 0);
	has_line(text, "\"x\\\"; y\\\\\" [shape=box, label=\"x\\\"; y\\\\\\neth0 192.168.1.1/24\\next0: user\"];");
	has_line(text, "\"x\\\"; y\\\\\" -- \"r2\" [penwidth=2, taillabel=\"eth1\\n10.0.1.1/30\", "
		 "headlabel=\"e\\\"\\n?\\n10.0.1.2/30\"];");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab),
		cmocka_unit_test(test_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
