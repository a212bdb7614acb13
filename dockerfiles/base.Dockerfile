# The same base as dockerfiles/build-base.sh bootstraps offline, for machines that reach a registry.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pytest git patch ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*' \
    && git config --system user.email swe-srl@localhost && git config --system user.name swe-srl
ENV LANG=C.UTF-8
CMD ["/bin/bash"]
