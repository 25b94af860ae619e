/* multivm qemu-argv (hidden): the QEMU command line multivm gives a VM,
 * one argument per line, so that the benchmarks' bare QEMU guests are
 * started from the same recipe (bench/boot.sh, bench/tcp.sh) with only
 * what differs replaced. */
#ifndef MULTIVM_QEMUARGV_H
#define MULTIVM_QEMUARGV_H

/* qemu-argv [--engine kvm|tcg] [--netdev SPEC] [--nic-opts OPTS]
 *           [--serial FILE] [CONFIG] VM
 * argv[0] is "qemu-argv"; dir is the state directory the sockets are
 * named in (DIR/VM.agent, ...). CONFIG defaults to the built-in system.
 *   --engine    instead of the config's engine (auto probes KVM as run does)
 *   --netdev    eth0 on this QEMU netdev (e.g. user, tap,ifname=tap0,...)
 *               instead of vhost-user; ",id=net0" is appended to it
 *   --nic-opts  appended to eth0's virtio-net-pci device
 *   --serial    the console to FILE instead of the socket DIR/VM.console
 * Returns 0, 1 when the QEMU line cannot be made, 2 on a usage or config
 * error. */
int cmd_qemu_argv(const char *dir, int argc, char **argv);

#endif
