# One image per environment (`swe-srl envs build SUITE --docker`): the base image, the environment's
# virtual environment at /opt/swe-srl/venv (built once over the same root filesystem, see
# swe_srl/environments/build.py) and /testbed holding the environment's source tree as a git
# repository. Tasks over this environment start from it and commit their setup patch on top when the
# container starts (or in a thin per-task layer), so no task copies the repository again.
# The builder appends ENV lines (PATH, VIRTUAL_ENV, the spec's variables).
ARG BASE_IMAGE=swe-srl/base:bookworm
FROM ${BASE_IMAGE}
COPY venv /opt/swe-srl/venv
COPY testbed /testbed
WORKDIR /testbed
CMD ["/bin/bash"]
