/* The state directory of one running system: where it is, the paths in
 * it, the supervisor's pid and the status file. */
#ifndef MULTIVM_STATE_H
#define MULTIVM_STATE_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

#define STATE_PATH_MAX 108	/* unix socket paths must fit sun_path */

/* The directory: opt (-S), else $MULTIVM_STATE, else /run/multivm for
 * root, else $XDG_RUNTIME_DIR/multivm, else /tmp/multivm-UID. */
void state_dir(char *out, size_t len, const char *opt);

/* Creates dir if needed and makes it ours alone: it holds sockets into
 * every VM and what was typed at their consoles. Owned by us, not a
 * symlink, writable by no one else (else refused: others may have put
 * things in it); mode 0700, or with search 0711: each VM's QEMU, under
 * an identity of its own (runas.h), passes through to reconnect to its
 * own socket, and a libvirt QEMU to an external VM's. Everything inside
 * is private (0600) but those sockets, each its one frontend's.
 * 0, or -1 with err set. */
int state_prepare_dir(const char *dir, bool search, char *err, size_t errlen);

/* Whether uid:gid (the user QEMU runs as) can pass through every directory
 * above dir: it reconnects to the VMM socket there after a VMM restart.
 * 0, or -1 with err naming the first one it cannot. */
int state_reachable(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen);

/* Every file of a running system, named in one place (state.c). */
enum state_file {
	/* One per VM: DIR/VM.suffix */
	SF_VHOST,		/* the VMM's vhost-user socket */
	SF_CONSOLE,		/* QEMU's serial console socket */
	SF_AGENT,		/* QEMU's agent port socket */
	SF_STATS,		/* the VMM's counters */
	SF_CAPTURE,		/* the VMM's capture ring */
	SF_VMM_LOG,
	SF_QEMU_LOG,
	SF_CONSOLE_LOG,		/* the console transcript */
	SF_CTL,			/* the node's link control file (common/linkctl.h) */
	SF_QMP,			/* QEMU's QMP socket (common/qmp.h) */
	/* An image VM's (supervisor/overlay.h): its disk's qcow2 overlay,
	 * gone at stop, or kept across runs with persist = yes; its UEFI
	 * variables the same way; its cloud-init seed; the overlay over the
	 * image it had before apply changed it (gone at stop / kept). */
	SF_OVERLAY,
	SF_PERSIST,
	SF_VARS,
	SF_PERSIST_VARS,
	SF_SEED,
	SF_OVERLAY_OLD,
	SF_PERSIST_OLD,
	SF_PER_VM,		/* how many of the above */
	/* One per system: DIR/name (vm is ignored) */
	SF_STATUS = SF_PER_VM,
	SF_STATUS_TMP,		/* the next status, renamed over it */
	SF_SUPERVISOR_PID,
	SF_SUPERVISOR_LOG,
	SF_CONSOLE_SOCK,	/* `multivm console` clients connect here */
	SF_RUN,			/* the running configuration's text (config/text.h) */
	SF_RUN_TMP,		/* the next one, renamed over it */
	SF_RUN_NAME,		/* the absolute name it was read from: its relative paths' base */
	SF_RUN_NAME_TMP,
	SF_APPLY_REQ,		/* multivm apply's request: the new config's text ... */
	SF_APPLY_REQ_NAME,	/* ... and its file's absolute name */
	SF_APPLY_RES,		/* the supervisor's answer: "ok\n" or "error: ...\n" */
	SF_APPLY_TMP,		/* each of them before it is renamed in place */
	SF_COUNT
};

/* The path of file f (of VM vm for the per-VM ones), or -ENAMETOOLONG if
 * it would not fit a socket path. */
int state_file(char out[STATE_PATH_MAX], const char *dir, const char *vm, enum state_file f);

/* The vhost-user socket of VM vm's wire NIC nic: DIR/VM.NIC.vhost (VM
 * names have no '.'), or -ENAMETOOLONG. */
int state_nic_socket(char out[STATE_PATH_MAX], const char *dir, const char *vm, const char *nic);

/* The supervisor's pid if one is alive for dir, else 0. */
pid_t state_supervisor(const char *dir);

/* Writes DIR/status atomically. */
int state_write_status(const char *dir, const char *text);
/* Writes DIR/f atomically: DIR/tmp, renamed over it (mode 0600). 0 or -errno. */
int state_write_atomic(const char *dir, enum state_file f, enum state_file tmp, const char *text);
/* Writes DIR/run, the running configuration's text, and DIR/run.name,
 * the absolute file name it was read from (its relative paths are
 * relative to that file's directory), each atomically (mode 0600). */
int state_write_run(const char *dir, const char *name, const char *text);

#endif
