#!/usr/bin/env bash
# Makes a development CA and certificates for segledgerd's mTLS with the
# openssl command line. NOT for production: keys are unencrypted.
#
#   scripts/make-dev-certs.sh DIR [--node NAME]... [CLIENT_CN]...
#
# Writes DIR/ca.pem + ca.key, one server certificate per --node NAME
# (default "node"): DIR/NAME.pem + NAME.key with SANs DNS:localhost,
# DNS:NAME and IP:127.0.0.1; and one client certificate per CLIENT_CN
# (default: operator qa inspector peer): DIR/CN.pem + CN.key, CN and SAN
# DNS:CN. segledgerd's config maps a certificate's CN or SAN to
# (party, role). Keys are EC P-256, files mode 0600; certificates are
# valid for 825 days. An existing DIR/ca.pem is reused, so certificates can
# be added later.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [--node NAME]... [CLIENT_CN]..." >&2
  exit 2
fi
dir=$1
shift
nodes=()
clients=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --node) nodes+=("$2"); shift 2 ;;
    *) clients+=("$1"); shift ;;
  esac
done
[[ ${#nodes[@]} -gt 0 ]] || nodes=(node)
[[ ${#clients[@]} -gt 0 ]] || clients=(operator qa inspector peer)

mkdir -p "$dir"
umask 077
cd "$dir"

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -f ca.pem ]]; then
  newkey ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=segledger dev CA $RANDOM" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem 2>/dev/null
fi

# sign NAME SAN EKU
sign() {
  local name=$1 san=$2 eku=$3
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$eku" "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -sha256 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

for n in "${nodes[@]}"; do
  sign "$n" "DNS:localhost,DNS:$n,IP:127.0.0.1" "serverAuth,clientAuth"
done
for c in "${clients[@]}"; do
  sign "$c" "DNS:$c" "clientAuth"
done
chmod 0644 ca.pem ./*.pem
echo "certificates in $dir: ca.pem ${nodes[*]} ${clients[*]}" >&2
