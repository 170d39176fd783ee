#!/usr/bin/env bash
# Installs every Debian package infermesh needs to build, test and run. Idempotent; needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev                               # actors (CAF 0.17.6)
  libtorch-dev                             # TorchScript models (LibTorch 1.13, CPU)
  libnats-dev nats-server                  # messaging (nats.c 3.4.1, nats-server 2.9.10)
  libopencv-dev                            # image decode and preprocessing
  libboost-dev libboost-test-dev libboost-program-options-dev
  libmsgpack-cxx-dev nlohmann-json3-dev    # wire format: msgpack and JSON
  libyaml-cpp-dev                          # config
  libtesseract-dev libleptonica-dev tesseract-ocr-eng tesseract-ocr-osd  # OCR and orientation
  libpoppler-cpp-dev libtiff-dev           # multi-page input: PDF and TIFF
  python3-reportlab                        # training/renderers/reportlab_docs.py: ReportLab PDF canvas
  groff libgs10-common                     # training/renderers/groff_docs.py: troff/tbl typeset by groff -Tpdf (its
                                           # devpdf fonts are the URW files under /usr/share/ghostscript)
  poppler-utils                            # training/renderers/pdf_raster.py: pdftoppm rasterises the renderers' PDFs
  python3-pil fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-core  # synthetic documents
  python3-torch python3-torchvision python3-opencv python3-numpy python3-yaml  # training, reference scores
  python3-jsonschema                       # tests: $SRV answers checked against ADR-32 schemas
  prometheus-cpp-dev                       # /metrics in Prometheus text format (prometheus-cpp 1.0.1)
  prometheus                               # tests: a real Prometheus server scrapes a node (2.42)
  nodejs npm                               # tests: rendered Kubernetes objects validated (npm kubernetes-models)
  systemd                                  # tests: rendered units checked with systemd-analyze verify
  nftables iproute2                        # simulate: partitions between hosts as network namespaces
  openssl                                  # tests: certificates for the TLS cases (nats_auth)
  chromium                                 # tests: a simulation's report.html rendered headless
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  # node and npm from elsewhere (NodeSource's nodejs ships npm and conflicts with Debian's): the commands count.
  if { [ "$p" = nodejs ] && command -v node >/dev/null; } || { [ "$p" = npm ] && command -v npm >/dev/null; }; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
