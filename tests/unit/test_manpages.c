/* The man pages stay true to the code: every config key the parser takes has
 * an entry in multivm.ini(5) and every entry there is a key; every command in
 * the CLI's table has an entry in multivm(8) and every entry there is a
 * command; and both pages render (groff -mandoc, as man(1) on Debian does)
 * without a warning, a literal macro or a stray font escape in the text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmdtable.h"
#include "config/config.h"

#define MAN8 "src/cli/multivm.8"
#define MAN5 "src/config/multivm.ini.5"

static char *root;	/* the source tree, holding MAN8 and MAN5 */

/* root/rel, to be freed. */
static char *in_tree(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", root, rel) < 0)
		abort();
	return p;
}

static bool tree_at(const char *dir)
{
	char *p;
	bool ok;

	free(root);
	root = strdup(dir);
	if (!root)
		abort();
	p = in_tree(MAN8);
	ok = access(p, R_OK) == 0;
	free(p);
	return ok;
}

/* The tests run from the top of the tree (make unit), else find it from
 * the binary: BUILD/tests/NAME or BUILD/asan/tests/NAME. */
static int find_tree(void **state)
{
	static const char *const up[] = { "/../..", "/../../.." };
	char exe[PATH_MAX], *dir, *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (getenv("MULTIVM_SRC") && tree_at(getenv("MULTIVM_SRC")))
		return 0;
	if (tree_at("."))
		return 0;
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		for (i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
			if (asprintf(&dir, "%s%s", exe, up[i]) < 0)
				abort();
			if (tree_at(dir)) {
				free(dir);
				return 0;
			}
			free(dir);
		}
	}
	fprintf(stderr, "test_manpages: cannot find %s (run from the top of the tree or set MULTIVM_SRC)\n", MAN8);
	return -1;
}

static int free_tree(void **state)
{
	free(root);
	root = NULL;
	return 0;
}

static char *slurp(FILE *f)
{
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf = realloc(buf, len + n + 1);
		assert_non_null(buf);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (!buf)
		buf = calloc(1, 1);
	assert_non_null(buf);
	buf[len] = 0;
	return buf;
}

static char *read_page(const char *rel)
{
	char *p = in_tree(rel), *text;
	FILE *f = fopen(p, "r");

	if (!f)
		fail_msg("cannot open %s", p);
	text = slurp(f);
	fclose(f);
	free(p);
	return text;
}

/* The lines of page from the one that starts with head up to the next
 * .Sh or .Ss line; NULL if there is no such line. */
static char *part(const char *page, const char *head)
{
	const char *s = page, *e;
	size_t hl = strlen(head);
	char *out;

	while (s && strncmp(s, head, hl) != 0) {
		s = strchr(s, '\n');
		s = s ? s + 1 : NULL;
	}
	if (!s)
		return NULL;
	for (e = strchr(s, '\n'); e && strncmp(e + 1, ".Sh ", 4) && strncmp(e + 1, ".Ss ", 4);)
		e = strchr(e + 1, '\n');
	if (!e)
		e = s + strlen(s);
	out = strndup(s, e - s);
	assert_non_null(out);
	return out;
}

/* Calls fn with each entry ".It Cm NAME ..." of part's outermost list. */
static void entries(const char *text, void (*fn)(const char *name, void *arg), void *arg)
{
	const char *s;
	int depth = 0;
	char name[64];

	for (s = text; s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		if (!strncmp(s, ".Bl ", 4))
			depth++;
		else if (!strncmp(s, ".El", 3) && (s[3] == '\n' || s[3] == ' ' || !s[3]))
			depth--;
		else if (depth == 1 && sscanf(s, ".It Cm %63[^ \n]", name) == 1)
			fn(name, arg);
	}
}

struct named {
	const char *name;
	int n;
};

static void count(const char *name, void *arg)
{
	struct named *want = arg;

	if (strcmp(name, want->name) == 0)
		want->n++;
}

/* How many entries of part's outermost list are called name. */
static int entries_named(const char *text, const char *name)
{
	struct named want = { name, 0 };

	entries(text, count, &want);
	return want.n;
}

struct section {
	const char *name;	/* for config_key_name */
	const char *head;	/* its subsection in multivm.ini(5) */
};

static const struct section sections[] = {
	{ "system", ".Ss [system]" },
	{ "vm", ".Ss [vm NAME]" },
	{ "tunnel", ".Ss [tunnel NAME]" },
	{ "host", ".Ss [host NAME]" },
	{ "links", ".Ss [links]" },
	{ "link", ".Ss [link A->B]" },
};

static void test_every_key_documented(void **state)
{
	char *page = read_page(MAN5), *text;
	const char *key;
	unsigned s, i, missing = 0;

	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		text = part(page, sections[s].head);
		if (!text)
			fail_msg("%s has no \"%s\"", MAN5, sections[s].head);
		assert_non_null(config_key_name(sections[s].name, 0));
		for (i = 0; (key = config_key_name(sections[s].name, i)); i++) {
			if (entries_named(text, key) == 1)
				continue;
			fprintf(stderr, "%s: [%s] %s: %s\n", MAN5, sections[s].name, key,
				entries_named(text, key) ? "more than one \".It Cm\" entry" : "no \".It Cm\" entry");
			missing++;
		}
		free(text);
	}
	free(page);
	assert_int_equal(missing, 0);
}

static void is_key(const char *name, void *arg)
{
	struct { const char *section; unsigned bad; } *a = arg;
	const char *key;
	unsigned i;

	for (i = 0; (key = config_key_name(a->section, i)); i++)
		if (strcmp(key, name) == 0)
			return;
	fprintf(stderr, "%s: [%s] documents \"%s\", which the parser does not take\n", MAN5, a->section, name);
	a->bad++;
}

static void test_every_entry_is_a_key(void **state)
{
	char *page = read_page(MAN5), *text;
	struct { const char *section; unsigned bad; } a = { NULL, 0 };
	unsigned s;

	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		text = part(page, sections[s].head);
		assert_non_null(text);
		a.section = sections[s].name;
		entries(text, is_key, &a);
		free(text);
	}
	free(page);
	assert_int_equal(a.bad, 0);
}

static void test_every_command_documented(void **state)
{
	char *page = read_page(MAN8), *commands = part(page, ".Sh COMMANDS"),
	     *synopsis = part(page, ".Sh SYNOPSIS");
	char line[128];
	unsigned missing = 0;
	size_t i;

	assert_non_null(commands);
	assert_non_null(synopsis);
	assert_true(cli_ncommands > 0);
	for (i = 0; i < cli_ncommands; i++) {
		const char *name = cli_commands[i].name;

		if (cli_commands[i].hidden)
			continue;
		if (entries_named(commands, name) != 1) {
			fprintf(stderr, "%s: command %s: %s in COMMANDS\n", MAN8, name,
				entries_named(commands, name) ? "more than one entry" : "no \".It Cm\" entry");
			missing++;
		}
		snprintf(line, sizeof(line), "\n.Cm %s", name);
		if (!strstr(synopsis, line)) {
			fprintf(stderr, "%s: command %s: not in SYNOPSIS\n", MAN8, name);
			missing++;
		}
	}
	free(synopsis);
	free(commands);
	free(page);
	assert_int_equal(missing, 0);
}

static void is_command(const char *name, void *arg)
{
	unsigned *bad = arg;

	if (!cli_command(name) || cli_command(name)->hidden) {
		fprintf(stderr, "%s: COMMANDS has \"%s\", which is not a command multivm shows\n", MAN8, name);
		(*bad)++;
	}
}

static void test_every_entry_is_a_command(void **state)
{
	char *page = read_page(MAN8), *commands = part(page, ".Sh COMMANDS");
	unsigned bad = 0;

	assert_non_null(commands);
	entries(commands, is_command, &bad);
	free(commands);
	free(page);
	assert_int_equal(bad, 0);
}

/* The usage is printed from the table: every command but the hidden ones,
 * 80 columns at most; the processes multivm starts are not commands. */
static void test_usage(void **state)
{
	char *text = NULL, *s, *nl, want[64];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cli_usage(f);
	fclose(f);
	for (s = text; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		if (nl - s > 80)
			fail_msg("usage line longer than 80 columns: %.*s", (int)(nl - s), s);
	}
	for (i = 0; i < cli_ncommands; i++) {
		snprintf(want, sizeof(want), "\n  %s ", cli_commands[i].name);
		if (cli_commands[i].hidden)
			assert_null(strstr(text, want));
		else
			assert_non_null(strstr(text, want));
		assert_ptr_equal(cli_command(cli_commands[i].name), &cli_commands[i]);
	}
	assert_null(cli_command("vmm"));
	assert_null(cli_command("tunnel"));
	free(text);
}

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out;

	assert_non_null(p);
	out = slurp(p);
	pclose(p);
	return out;
}

/* mdoc macros, as they would show if a line break before one was lost. */
static const char *const macros[] = {
	"Ad", "An", "Ar", "Bd", "Bl", "Cd", "Cm", "Dd", "Dl", "Dq", "Dt", "Dv", "Ed", "El", "Em",
	"Er", "Ev", "Fa", "Fl", "Fn", "Ic", "It", "Li", "Nd", "Nm", "No", "Ns", "Oc", "Oo", "Op",
	"Os", "Pa", "Pc", "Po", "Pp", "Pq", "Ql", "Qq", "Sh", "Sm", "Sq", "Ss", "Sx", "Sy", "Va",
	"Xr",
};

/* Renders the page at path; returns how many problems it has, each said
 * on standard error unless quiet: a warning from groff, a line that
 * starts with a macro, a macro inside a line, or a font escape left in
 * the text. */
static unsigned render_problems(const char *path, bool quiet)
{
	FILE *say = quiet ? fopen("/dev/null", "w") : stderr;
	char *cmd, *out, *err, *line, *next, *p;
	unsigned bad = 0, n = 0;
	size_t i;

	assert_null(strchr(path, '\''));
	if (asprintf(&cmd, "groff -mandoc -Tutf8 -P-cbou -ww '%s' 2>&1 >/dev/null", path) < 0)
		abort();
	err = run(cmd);
	free(cmd);
	if (*err) {
		fprintf(say, "%s: groff says:\n%s", path, err);
		bad++;
	}
	if (asprintf(&cmd, "groff -mandoc -Tutf8 -P-cbou '%s' 2>/dev/null", path) < 0)
		abort();
	out = run(cmd);
	free(cmd);
	if (strlen(out) < 100) {
		fprintf(say, "%s: rendered to almost nothing\n", path);
		bad++;
	}
	for (line = out; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = 0;
		n++;
		p = line + strspn(line, " \t");
		if (p[0] == '.' && ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z'))) {
			fprintf(say, "%s: rendered line %u starts with a macro: %s\n", path, n, line);
			bad++;
		}
		if (strstr(line, "\\f")) {
			fprintf(say, "%s: rendered line %u has a font escape: %s\n", path, n, line);
			bad++;
		}
		for (p = strchr(line, '.'); p; p = strchr(p + 1, '.'))
			for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
				if (!strncmp(p + 1, macros[i], 2) && (p[3] == ' ' || !p[3])) {
					fprintf(say, "%s: rendered line %u has the macro .%s in it: %s\n",
						path, n, macros[i], line);
					bad++;
				}
	}
	free(out);
	free(err);
	if (quiet)
		fclose(say);
	return bad;
}

static void have_groff(void)
{
	if (system("command -v groff >/dev/null 2>&1") != 0)
		fail_msg("groff is not installed (scripts/deps.sh test installs groff-base)");
}

static void test_pages_render(void **state)
{
	char *man8 = in_tree(MAN8), *man5 = in_tree(MAN5);
	unsigned bad;

	have_groff();
	bad = render_problems(man8, false) + render_problems(man5, false);
	free(man8);
	free(man5);
	assert_int_equal(bad, 0);
}

/* The check itself finds what it is for: the glued ".It" multivm.ini(5)
 * once had, an unknown macro, and an escaped font escape. */
static void test_render_check_catches(void **state)
{
	static const char *const bad[] = {
		".Bl -tag -width Ds\n.It Cm restart\nfail at once..It Cm guest = multivm\n.El\n",
		".Bl -tag -width Ds\n.It Cm restart\nfail at once.\n.Itt Cm guest = multivm\n.El\n",
		".Pp\nsome \\\\fBbold\\\\fR text\n",
	};
	char path[] = "/tmp/test_manpages.XXXXXX";
	size_t i;

	have_groff();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = mkstemp(path);
		FILE *f;

		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		assert_non_null(f);
		fprintf(f, ".Dd December 7, 2026\n.Dt TEST 1\n.Os\n.Sh NAME\n.Nm test\n.Nd a page\n"
			".Sh DESCRIPTION\nA sentence long enough to render to more than a hundred bytes "
			"of text, so that only the fault is found.\n%s", bad[i]);
		fclose(f);
		assert_true(render_problems(path, true) > 0);
		unlink(path);
		strcpy(path, "/tmp/test_manpages.XXXXXX");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_every_entry_is_a_key),
		cmocka_unit_test(test_every_command_documented),
		cmocka_unit_test(test_every_entry_is_a_command),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_pages_render),
		cmocka_unit_test(test_render_check_catches),
	};
	return cmocka_run_group_tests(tests, find_tree, free_tree);
}
