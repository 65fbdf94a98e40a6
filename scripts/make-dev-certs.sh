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
#
# Certificates for fault tests (client certificates, CN and SAN as above):
#   --expired CN        signed by DIR/ca.pem, valid 2020-01-01..2021-01-01
#   --not-yet-valid CN  signed by DIR/ca.pem, valid from 2099-01-01
#   --other-ca CN       signed by a second CA, DIR/other-ca.pem (+ .key),
#                       made on first use; segledgerd does not trust it
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [--node NAME]... [CLIENT_CN]..." >&2
  exit 2
fi
dir=$1
shift
nodes=()
clients=()
expired=()
future=()
foreign=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --node) nodes+=("$2"); shift 2 ;;
    --expired) expired+=("$2"); shift 2 ;;
    --not-yet-valid) future+=("$2"); shift 2 ;;
    --other-ca) foreign+=("$2"); shift 2 ;;
    *) clients+=("$1"); shift ;;
  esac
done
[[ ${#nodes[@]} -gt 0 ]] || nodes=(node)
extra=$((${#expired[@]} + ${#future[@]} + ${#foreign[@]}))
[[ ${#clients[@]} -gt 0 || $extra -gt 0 ]] || clients=(operator qa inspector peer)

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
# sign_dated NAME CA_PREFIX START END: a client certificate with explicit
# validity dates (openssl ca: openssl x509 -req cannot set notBefore).
sign_dated() {
  local name=$1 ca=$2 start=$3 end=$4 db
  db=$(mktemp -d "$PWD/.ca-db.XXXXXX")
  : >"$db/index.txt"
  echo 01 >"$db/serial"
  printf '[ca]\ndefault_ca=dev\n[dev]\ndatabase=%s/index.txt\nnew_certs_dir=%s\nserial=%s/serial\ndefault_md=sha256\npolicy=any\n[any]\ncommonName=supplied\n' \
    "$db" "$db" "$db" >"$db/ca.cnf"
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$db/req.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:%s\n' \
    "$name" >"$db/ext"
  openssl ca -batch -notext -config "$db/ca.cnf" -cert "$ca.pem" -keyfile "$ca.key" \
    -in "$db/req.csr" -out "$name.pem" -startdate "$start" -enddate "$end" \
    -extfile "$db/ext" 2>/dev/null
  rm -rf "$db"
}
for c in "${expired[@]}"; do sign_dated "$c" ca 20200101000000Z 20210101000000Z; done
for c in "${future[@]}"; do sign_dated "$c" ca 20990101000000Z 21000101000000Z; done
if [[ ${#foreign[@]} -gt 0 && ! -f other-ca.pem ]]; then
  newkey other-ca.key
  openssl req -x509 -new -key other-ca.key -sha256 -days 3650 \
    -subj "/CN=segledger other dev CA $RANDOM" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out other-ca.pem 2>/dev/null
fi
for c in "${foreign[@]}"; do
  sign_dated "$c" other-ca "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" "$(date -u -d '+825 days' +%Y%m%d%H%M%SZ)"
done
chmod 0644 ca.pem ./*.pem
echo "certificates in $dir: ca.pem ${nodes[*]} ${clients[*]} ${expired[*]} ${future[*]} ${foreign[*]}" >&2
