/* The commands that talk to a running system through its state directory. */
#ifndef MULTIVM_COMMANDS_H
#define MULTIVM_COMMANDS_H

enum out_format { OUT_TEXT, OUT_JSON, OUT_PROMETHEUS };

int cmd_status(const char *dir, enum out_format fmt);
int cmd_stop(const char *dir, int timeout_s);
int cmd_stats(const char *dir, enum out_format fmt);
/* Attaches this terminal to VM's console; 1 if there is no such VM. */
int cmd_console(const char *dir, const char *vm);
int cmd_exec(const char *dir, const char *vm, const char *cmd, int timeout_s);
int cmd_check(const char *path);
/* plan --host HOST CONFIG: HOST's part of CONFIG, as an INI file (config/hostplan.h). */
int cmd_plan(const char *host, const char *path);
int cmd_pci_info(const char *bdf);

#endif
