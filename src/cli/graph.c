/* multivm graph: see graph.h. Segment links are drawn as edges between
 * the two VMs rather than as spokes of one "segment" node: a segment link
 * joins one pair (vm0 = vm1 vm2 does not let vm1 reach vm2, and no VMM
 * forwards between its links), and each edge is what `multivm capture
 * A-B` and `stats` name. */
#include "cli/graph.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LABEL_MAX 256

/* s as a dot quoted string: " and \ escaped, a newline as dot's \n, other
 * control characters as '?', so no name can end the string or the graph. */
static void quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else
			fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
	fputc('"', f);
}

/* Appends printf text to the label at buf (always terminated, cut short
 * at LABEL_MAX). */
__attribute__((format(printf, 2, 3)))
static void add(char *buf, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, LABEL_MAX - n, fmt, ap);
	va_end(ap);
}

static void add_ip(char *buf, uint32_t a)
{
	add(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void node(FILE *f, const struct config *c, const struct cfg_vm *v)
{
	char label[LABEL_MAX];

	snprintf(label, sizeof(label), "%s", v->name);
	if (v->tunnel) {
		add(label, "\nVXLAN %u to ", (unsigned)v->tun_vni);
		add_ip(label, v->tun_remote);
		add(label, ":%u", v->tun_port);
	} else {
		if (v->segment) {
			add(label, "\neth0");
			if (v->has_addr) {
				add(label, " ");
				add_ip(label, v->addr);
				add(label, "/%u", v->prefix);
			}
		}
		if (*v->passthrough)
			add(label, "\n%s: %s", v->passthrough_name, v->passthrough);
		if (v->external)
			add(label, "\n(external)");
	}
	(void)c;
	fputc('\t', f);
	quote(f, v->name);
	fprintf(f, " [shape=%s, label=", v->tunnel ? "cds" : "box");
	quote(f, label);
	fputs("];\n", f);
}

/* A wire end's label: its NIC's name and address; "" for a tunnel end. */
static void nic_label(char *buf, const struct cfg_vm *v, int i)
{
	const struct cfg_nic *n;

	*buf = 0;
	if (i < 0 || (unsigned)i >= v->nnics)
		return;
	n = &v->nic[i];
	add(buf, "%s", n->name);
	if (n->has_addr) {
		add(buf, "\n");
		add_ip(buf, n->addr);
		add(buf, "/%u", n->prefix);
	}
}

int graph_dot(FILE *f, const struct config *c)
{
	char tail[LABEL_MAX], head[LABEL_MAX];
	unsigned i;

	fputs("graph ", f);
	quote(f, c->name);
	fputs(" {\n\tnode [fontname=\"sans-serif\", style=rounded];\n"
	      "\tedge [fontname=\"sans-serif\", fontsize=10];\n", f);
	for (i = 0; i < c->nvms; i++)
		node(f, c, &c->vm[i]);
	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];
		const struct cfg_vm *a = &c->vm[l->a], *b = &c->vm[l->b];

		fputc('\t', f);
		quote(f, a->name);
		fputs(" -- ", f);
		quote(f, b->name);
		if (!l->wire) {
			fputs(" [color=gray40];\n", f);
			continue;
		}
		nic_label(tail, a, l->nic_a);
		nic_label(head, b, l->nic_b);
		fputs(" [penwidth=2, taillabel=", f);
		quote(f, tail);
		fputs(", headlabel=", f);
		quote(f, head);
		fputs("];\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}

/* The dot text through `dot -Tsvg` to stdout; dot's exit status decides. */
static int svg(const struct config *c)
{
	char *argv[] = { "dot", "-Tsvg", NULL };
	posix_spawn_file_actions_t fa;
	int p[2], err, status, wr;
	pid_t pid;
	FILE *f;

	if (pipe(p) < 0)
		return perror("multivm: graph: pipe"), 1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	err = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (err) {
		close(p[1]);
		if (err == ENOENT)
			fprintf(stderr, "multivm: graph --svg needs Graphviz's dot: apt-get install graphviz\n");
		else
			fprintf(stderr, "multivm: graph: cannot run dot: %s\n", strerror(err));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);	/* dot quitting early is reported by its status */
	f = fdopen(p[1], "w");
	wr = f ? graph_dot(f, c) : -1;
	if (f ? fclose(f) != 0 : close(p[1]) != 0)
		wr = -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return perror("multivm: graph: waitpid"), 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "multivm: graph: dot failed\n");
		return 1;
	}
	return wr < 0 ? 1 : 0;
}

int cmd_graph(const char *dir, int argc, char **argv)
{
	static struct config c;
	char err[CFG_ERR_MAX];
	const char *path = NULL;
	bool to_svg = false;
	int i, r;

	(void)dir;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--svg") == 0)
			to_svg = true;
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			goto bad;
	}
	r = path ? config_load_file(&c, path, err, sizeof(err)) : config_load_default(&c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (to_svg)
		return svg(&c);
	if (graph_dot(stdout, &c) < 0 || fflush(stdout) != 0) {
		perror("multivm: graph");
		return 1;
	}
	return 0;
bad:
	fprintf(stderr, "usage: multivm graph [--svg] [CONFIG]\n");
	return 2;
}
