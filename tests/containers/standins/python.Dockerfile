# STAND-IN for docker.io/library/python:3.13-slim-trixie, for CI only (no
# registry is reachable there). Built on a debootstrapped Debian 13 (trixie)
# root with Debian's python3 (3.13) and python3-venv. Unlike the official image:
# Python is Debian's, in /usr/bin (symlinked into /usr/local/bin), not built
# from source in /usr/local; and pip trusts this machine's CA bundle.
# hadolint ignore=DL3007
FROM localhost/workshop-standin-base:latest
ENV LANG=C.UTF-8 \
    PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN ln -s /usr/bin/python3 /usr/local/bin/python
CMD ["python3"]
