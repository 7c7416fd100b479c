#!/usr/bin/env bash
# Two hosts on one machine: runs COMMAND under `mpirun -np 2`, one rank in
# each of two network namespaces joined by a veth pair, MPI over TCP only
# (no shared-memory transport), as two machines on a network would run it.
#   scripts/two_hosts.sh COMMAND [ARGS...]
# e.g. scripts/two_hosts.sh build/radlads convert --teacher T --data D --out O ...
#      scripts/two_hosts.sh build/bench_comm      (TCP bandwidth of the collectives)
# mpirun starts in namespace A (10.77.0.1) and launches B's daemon through an
# rsh agent that enters namespace B (10.77.0.2) — what ssh does between real
# hosts. Needs root (ip netns) and iproute2; removes everything it made on exit.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "two_hosts.sh: needs root to create network namespaces" >&2; exit 2; }
command -v ip >/dev/null || { echo "two_hosts.sh: needs iproute2 (scripts/setup.sh installs it)" >&2; exit 2; }

A=radlads$$a B=radlads$$b
WORK=$(mktemp -d)
cleanup() {
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true  # deleting a namespace removes its end of the veth pair
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add "v$$a" type veth peer name "v$$b"
ip link set "v$$a" netns "$A"
ip link set "v$$b" netns "$B"
ip -n "$A" addr add 10.77.0.1/24 dev "v$$a"
ip -n "$B" addr add 10.77.0.2/24 dev "v$$b"
for ns in "$A" "$B"; do
  ip -n "$ns" link set lo up
done
ip -n "$A" link set "v$$a" up
ip -n "$B" link set "v$$b" up

# The "ssh" between the hosts: agent HOST CMD... runs CMD inside HOST's namespace.
cat >"$WORK/agent" <<EOF
#!/bin/sh
host=\$1; shift
case "\$host" in
  10.77.0.1) ns=$A ;;
  10.77.0.2) ns=$B ;;
  *) echo "two_hosts agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x "$WORK/agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$WORK/hostfile"

ip netns exec "$A" env OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
  mpirun --allow-run-as-root -np 2 --hostfile "$WORK/hostfile" -x OMP_NUM_THREADS \
  --mca plm_rsh_agent "$WORK/agent" \
  --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  "$@"
