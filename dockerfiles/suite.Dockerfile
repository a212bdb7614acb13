# One image per task: the task's prepared base repository at /testbed (HEAD = the base commit),
# on top of the shared base image. Built by `swe-srl images build SUITE` from a context holding
# `testbed/` (a copy of swe_srl.sandbox.workspace.prepare_base_repo(task), .git included).
# Every task image shares the base image's layers; only /testbed differs.
ARG BASE_IMAGE=swe-srl/base:bookworm
FROM ${BASE_IMAGE}
COPY testbed /testbed
WORKDIR /testbed
CMD ["/bin/bash"]
