#!/bin/sh
# ExecStartPre helper for vault.service. Vault wants retry_join blocks inside
# its storage "raft" block, so this fills them into a template: the line
# "# joinhintd:retry_join" of TEMPLATE is replaced by the stanzas joinhintd
# serves, and the result replaces OUTPUT atomically. When joinhintd has no
# answer the previous OUTPUT stays, so a node that restarts while the API is
# down still has its last hints.
#
#   ExecStartPre=/usr/local/lib/joinhintd/vault-retry-join.sh \
#       /etc/vault.d/storage.hcl.tmpl /etc/vault.d/storage.hcl
#
# storage.hcl.tmpl:
#   storage "raft" {
#     path    = "/opt/vault/data"
#     node_id = "vault-1"
#     # joinhintd:retry_join
#   }
set -eu
template=$1
out=$2
url=${JOINHINTD_URL:-http://127.0.0.1:8209}/v1/retry-join
hints=$(mktemp)
tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$hints" "$tmp"' EXIT
if ! curl -fsS --max-time 5 --retry 10 --retry-delay 1 --retry-connrefused "$url" -o "$hints"; then
	echo "joinhintd did not answer at $url; keeping $out" >&2
	exit 0
fi
awk -v hints="$hints" '
	$0 ~ /^[[:space:]]*# joinhintd:retry_join[[:space:]]*$/ {
		while ((getline line < hints) > 0) print line
		done = 1
		next
	}
	{ print }
	END { if (!done) { print "no \"# joinhintd:retry_join\" line in the template" > "/dev/stderr"; exit 1 } }
' "$template" > "$tmp"
chmod 0640 "$tmp"
mv -f "$tmp" "$out"
